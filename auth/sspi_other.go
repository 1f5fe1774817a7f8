//go:build !windows

package auth

import (
	"context"
	"crypto/x509"
	"errors"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// hasSSPI: only Windows has SSPI.
const hasSSPI = false

// platformCredentials is SSPI's state on Windows; elsewhere there is none.
type platformCredentials struct{}

// start is never called where hasSSPI is false.
func (*platformCredentials) start(context.Context, *Transport, []string, gss.Format, *x509.Certificate, bool, bool) (secContext, []byte, string, error) {
	return nil, nil, "", errors.New("auth: SSPI exists only on Windows")
}
