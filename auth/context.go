package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// Initiate starts a Kerberos context with the service at target as the
// transport would for a request to it: the same credentials, service
// principal rules ([WithService], [WithHostnameOverride], krb5.conf
// canonicalization), flags (mutual authentication, delegation) and token
// format, and, for an https target when cert is given and channel binding
// is on, tls-server-end-point bindings for cert. It returns the client
// context, which verifies the server's reply token and then protects
// messages, and the binary initial token for an Authorization header. On
// Windows without credential options the context is SSPI's for the
// logged-on user, whose keys stay in Windows.
//
// Initiate is for callers that run the HTTP exchange themselves because
// the context must stay bound to one connection: WinRM message encryption
// (module wsman) sends the token on an empty POST over a connection it
// owns, verifies the reply with the initiator, and encrypts the messages
// that follow on that connection with [gss.ClientContext.Protector].
// Failures are *[NegotiateError] values, as [ResponseError] reports them.
func (t *Transport) Initiate(ctx context.Context, target *url.URL, cert *x509.Certificate) (gss.ClientContext, []byte, error) {
	if target == nil || target.Host == "" {
		return nil, nil, errors.New("auth: Initiate: target URL without a host")
	}
	req := (&http.Request{Method: http.MethodPost, URL: target, Header: make(http.Header)}).WithContext(ctx)
	return t.newToken(ctx, req, urlHost(target), cert)
}
