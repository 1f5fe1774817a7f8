package winrmserver

import (
	"context"
	"path/filepath"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

// writeDelegation stores the TGT a client delegated in a credential cache
// in dir, for the shell's commands (KRB5CCNAME), and returns its path; ""
// when the client delegated nothing.
func writeDelegation(dir string, id *acceptor.Identity) (string, error) {
	if id.Credentials == nil {
		return "", nil
	}
	tgt, err := id.Credentials.TGT(context.Background())
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "krb5cc")
	return path, credentials.WriteCCache(path, tgt)
}
