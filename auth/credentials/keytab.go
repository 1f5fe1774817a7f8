package credentials

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

// mitDefaultClientKeytab is MIT's DEFCKTNAME as Debian builds it.
const mitDefaultClientKeytab = "FILE:/var/lib/krb5/user/%{euid}/client.keytab"

// DefaultClientKeytabName returns the client keytab MIT would use:
// KRB5_CLIENT_KTNAME, else default_client_keytab_name from cfg, else
// FILE:/var/lib/krb5/user/%{euid}/client.keytab, tokens expanded.
func DefaultClientKeytabName(cfg *Config) (string, error) {
	env := cfg.environ()
	name := env.getenv("KRB5_CLIENT_KTNAME")
	if name == "" && cfg != nil {
		name = cfg.DefaultClientKeytabName
	}
	if name == "" {
		name = mitDefaultClientKeytab
	}
	return env.expandPath(name)
}

// DefaultClientKeytab loads the default client keytab (see
// DefaultClientKeytabName) and returns it with its path. A missing file
// matches ErrNoCredentials. Only file keytabs (FILE:, WRFILE: or a bare
// path) are supported.
func DefaultClientKeytab(cfg *Config) (*keytab.Keytab, string, error) {
	const op = "load client keytab"
	name, err := DefaultClientKeytabName(cfg)
	if err != nil {
		return nil, "", &Error{Op: op, Err: err}
	}
	path := name
	if typ, rest, ok := strings.Cut(name, ":"); ok && !strings.Contains(typ, "/") {
		switch strings.ToUpper(typ) {
		case "FILE", "WRFILE":
			path = rest
		default:
			return nil, "", &Error{Op: op, Err: fmt.Errorf("keytab type %s: is not supported (%s)", typ, name)}
		}
	}
	kt, err := loadKeytab(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = withSentinel(ErrNoCredentials, "no client keytab", err)
		}
		return nil, path, &Error{Op: op, Err: err}
	}
	return kt, path, nil
}

// maxKeytabSize bounds how much of a keytab file is read.
const maxKeytabSize = 16 << 20

// loadKeytab reads a keytab file. gokrb5's parser indexes the input
// without checking every length, so it runs under a recover: a corrupt
// keytab must give an error, not crash the program.
func loadKeytab(path string) (kt *keytab.Keytab, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeytabSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeytabSize {
		return nil, withSentinel(ErrMalformed, path+": too large for a keytab", nil)
	}
	defer func() {
		if r := recover(); r != nil {
			kt, err = nil, withSentinel(ErrMalformed, fmt.Sprintf("%s: corrupt keytab (%v)", path, r), nil)
		}
	}()
	kt = keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return nil, withSentinel(ErrMalformed, path, err)
	}
	return kt, nil
}
