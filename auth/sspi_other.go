//go:build !windows

package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
)

// platformCredentials is SSPI's state on Windows; elsewhere there is none.
type platformCredentials struct{}

// useSSPI is true only on Windows.
func (t *Transport) useSSPI() bool { return false }

func (t *Transport) sspiToken(context.Context, *http.Request, string, *x509.Certificate) (secContext, []byte, error) {
	return nil, nil, errors.New("auth: SSPI exists only on Windows")
}
