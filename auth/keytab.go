package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/credentials"
)

// keytabSource logs in with a client keytab: the file WithKeytab named, or
// MIT's default client keytab. Without WithPrincipal the keytab's first
// principal is used, as `kinit -k` does with the default host principal's
// absence.
func (t *Transport) keytabSource(kc *credentials.Config) (credentials.Source, error) {
	var (
		kt   *keytab.Keytab
		path = t.cfg.keytabPath
		err  error
	)
	if path == defaultClientKeytab {
		kt, path, err = credentials.DefaultClientKeytab(kc)
	} else {
		kt, err = keytab.Load(strings.TrimPrefix(path, "FILE:"))
	}
	if err != nil {
		return nil, fmt.Errorf("auth: loading keytab %s: %w", path, err)
	}
	principal := t.cfg.principal
	if principal == "" {
		if len(kt.Entries) == 0 {
			return nil, fmt.Errorf("auth: keytab %s: %w", path, errors.New("no entries"))
		}
		e := kt.Entries[0].Principal
		principal = strings.Join(e.Components, "/") + "@" + e.Realm
	}
	return credentials.NewKeytabSource(kc, principal, kt, t.credentialOptions()...)
}
