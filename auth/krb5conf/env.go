package krb5conf

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// Env is what MIT's rules read from the process: environment variables
// (KRB5_CONFIG, KRB5CCNAME, KRB5_CLIENT_KTNAME, TMPDIR) and user ids (for
// %{uid}-style path tokens). A nil *Env, and each nil field, reads this
// process's own. Tests, and programs that resolve names for another user,
// fill in the fields they need.
type Env struct {
	Getenv   func(key string) string
	UID      func() int             // real user id: %{uid}, %{USERID}
	EUID     func() int             // effective user id: %{euid}
	Username func() (string, error) // %{username}
}

func (e *Env) getenv(key string) string {
	if e == nil || e.Getenv == nil {
		return os.Getenv(key)
	}
	return e.Getenv(key)
}

func (e *Env) uid() int {
	if e == nil || e.UID == nil {
		return os.Getuid()
	}
	return e.UID()
}

func (e *Env) euid() int {
	if e == nil || e.EUID == nil {
		return os.Geteuid()
	}
	return e.EUID()
}

func (e *Env) username() (string, error) {
	if e == nil || e.Username == nil {
		u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
		if err != nil {
			return "", err
		}
		return u.Username, nil
	}
	return e.Username()
}

// mitDefaultCCacheName is MIT's compiled-in DEFCCNAME.
const mitDefaultCCacheName = "FILE:/tmp/krb5cc_%{uid}"

// mitDefaultClientKeytab is MIT's DEFCKTNAME as Debian builds it.
const mitDefaultClientKeytab = "FILE:/var/lib/krb5/user/%{euid}/client.keytab"

// CCacheName returns the credential cache name MIT would use: KRB5CCNAME
// if set, else default_ccache_name, else FILE:/tmp/krb5cc_%{uid}, with
// path tokens expanded (see [Config.ExpandPath]). If the configured name
// has an unknown token, MIT's default is returned instead (MIT fails; a
// caller then gets a clear error from the missing cache rather than
// here). The name is not checked further: its type and residual are for
// whoever opens the cache.
func (c *Config) CCacheName() string {
	if v := c.Env.getenv("KRB5CCNAME"); v != "" {
		return v
	}
	if c.DefaultCCacheName != "" {
		if name, err := c.ExpandPath(c.DefaultCCacheName); err == nil {
			return name
		}
	}
	name, _ := c.ExpandPath(mitDefaultCCacheName)
	return name
}

// ClientKeytabName returns the client keytab name MIT would use:
// KRB5_CLIENT_KTNAME, else default_client_keytab_name, else
// FILE:/var/lib/krb5/user/%{euid}/client.keytab, tokens expanded.
func (c *Config) ClientKeytabName() (string, error) {
	name := c.Env.getenv("KRB5_CLIENT_KTNAME")
	if name == "" {
		name = c.DefaultClientKeytabName
	}
	if name == "" {
		name = mitDefaultClientKeytab
	}
	return c.ExpandPath(name)
}

// ExpandPath expands MIT's path tokens (k5_expand_path_tokens) as on Unix:
// %{uid} and %{USERID} (real uid), %{euid}, %{username}, %{TEMP} (TMPDIR
// or /tmp) and %{null}. Unknown tokens are an error matching
// [ErrMalformed], as in MIT.
func (c *Config) ExpandPath(s string) (string, error) {
	if !strings.Contains(s, "%{") {
		return s, nil
	}
	env := c.Env
	var b strings.Builder
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("krb5conf: %w: unterminated %%{ in %q", ErrMalformed, s)
		}
		tok := s[i+2 : i+j]
		s = s[i+j+1:]
		switch tok {
		case "uid", "USERID":
			b.WriteString(strconv.Itoa(env.uid()))
		case "euid":
			b.WriteString(strconv.Itoa(env.euid()))
		case "username":
			name, err := env.username()
			if err != nil {
				return "", fmt.Errorf("krb5conf: expand %%{username}: %w", err)
			}
			b.WriteString(name)
		case "TEMP":
			if t := env.getenv("TMPDIR"); t != "" {
				b.WriteString(t)
			} else {
				b.WriteString("/tmp")
			}
		case "null":
		default:
			return "", fmt.Errorf("krb5conf: %w: unknown token %%{%s} in path", ErrMalformed, tok)
		}
	}
}
