package credentials

import (
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// LoadKeytab reads the keytab name designates: "FILE:path", "WRFILE:path"
// or a bare path, as MIT names file keytabs. It is the one keytab loader
// of this module, for clients ([NewKeytabSource]) and servers (package
// acceptor) alike: it reads at most 16 MiB, and a corrupt file is an error
// matching ErrMalformed, never a panic. A missing file matches
// ErrNoCredentials; other keytab types (MEMORY:, KDB:) are refused.
func LoadKeytab(name string) (*keytab.Keytab, error) {
	kt, err := loadKeytab(name)
	if err != nil {
		return nil, &Error{Op: "load keytab", Err: err}
	}
	return kt, nil
}

// DefaultClientKeytab loads the client keytab MIT would use
// (cfg.ClientKeytabName: KRB5_CLIENT_KTNAME, default_client_keytab_name,
// or FILE:/var/lib/krb5/user/%{euid}/client.keytab) and returns it with
// its name. Errors are those of [LoadKeytab].
func DefaultClientKeytab(cfg *krb5conf.Config) (*keytab.Keytab, string, error) {
	kt, name, err := defaultClientKeytab(cfg)
	if err != nil {
		return nil, name, &Error{Op: "load client keytab", Err: err}
	}
	return kt, name, nil
}

func defaultClientKeytab(cfg *krb5conf.Config) (*keytab.Keytab, string, error) {
	name, err := cfg.ClientKeytabName()
	if err != nil {
		return nil, "", withSentinel(ErrMalformed, "", err)
	}
	kt, err := loadKeytab(name)
	return kt, name, err
}

// loadKeytab reads a keytab file. gokrb5's parser indexes the input
// without checking every length, so it runs under a recover: a corrupt
// keytab must give an error, not crash the program.
func loadKeytab(name string) (kt *keytab.Keytab, err error) {
	path := name
	if typ, rest, ok := strings.Cut(name, ":"); ok && !strings.Contains(typ, "/") && !krb5conf.IsDriveLetter(typ) {
		switch strings.ToUpper(typ) {
		case "FILE", "WRFILE":
			path = rest
		default:
			return nil, fmt.Errorf("keytab type %s: is not supported (%s); use a file keytab", typ, name)
		}
	}
	b, err := readSmallFile(path, "keytab")
	if err != nil {
		return nil, err
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
