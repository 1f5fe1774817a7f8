package auth

import (
	"fmt"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// keytabSource logs in with a client keytab: the file WithKeytab named, or
// MIT's default client keytab. Without WithPrincipal the keytab's first
// principal is used, as `kinit -k -t` does.
func (t *Transport) keytabSource(kc *krb5conf.Config) (credentials.Source, error) {
	var kt *keytab.Keytab // nil: NewKeytabSource loads the default client keytab
	if t.cfg.keytabPath != defaultClientKeytab {
		var err error
		if kt, err = credentials.LoadKeytab(t.cfg.keytabPath); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return credentials.NewKeytabSource(kc, t.cfg.principal, kt, t.credentialOptions()...)
}
