package credentials

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// environ is what this package reads from the process: environment
// variables and user ids. Tests substitute their own; production code uses
// osEnviron. Keeping it in one place avoids any package-level mutable
// state.
type environ struct {
	getenv   func(string) string
	uid      func() int
	euid     func() int
	username func() (string, error)
}

func osEnviron() *environ {
	return &environ{
		getenv: os.Getenv,
		uid:    os.Getuid,
		euid:   os.Geteuid,
		username: func() (string, error) {
			u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
			if err != nil {
				return "", err
			}
			return u.Username, nil
		},
	}
}

// expandPath expands MIT's path tokens (k5_expand_path_tokens) on Unix:
// %{uid} and %{USERID} (real uid), %{euid}, %{username}, %{TEMP} (TMPDIR
// or /tmp) and %{null}. Unknown tokens are an error, as in MIT.
func (env *environ) expandPath(s string) (string, error) {
	if !strings.Contains(s, "%{") {
		return s, nil
	}
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
			return "", withSentinel(ErrMalformed, fmt.Sprintf("unterminated %%{ in %q", s), nil)
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
				return "", fmt.Errorf("expand %%{username}: %w", err)
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
			return "", withSentinel(ErrMalformed, "", errors.New("unknown token %{"+tok+"} in path"))
		}
	}
}
