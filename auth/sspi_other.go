//go:build !windows

package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
)

// hasSSPI: only Windows has SSPI.
const hasSSPI = false

// platformCredentials is SSPI's state on Windows; elsewhere there is none.
type platformCredentials struct{}

// token is never called where hasSSPI is false.
func (*platformCredentials) token(context.Context, *Transport, *http.Request, string, *x509.Certificate) (secContext, []byte, error) {
	return nil, nil, errors.New("auth: SSPI exists only on Windows")
}
