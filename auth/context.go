package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// Initiate starts a Kerberos context with the service at target as the
// transport would for a request to it: the same credentials, service
// principal rules ([WithService], [WithHostnameOverride], krb5.conf
// canonicalization), flags (mutual authentication, delegation) and token
// format, and, for an https target when cert is given and channel binding
// is on, tls-server-end-point bindings for cert. It returns the initiator,
// which verifies the server's reply token and then holds the security
// context, and the binary initial token for an Authorization header.
//
// Initiate is for callers that run the HTTP exchange themselves because
// the context must stay bound to one connection: WinRM message encryption
// (module wsman) sends the token on an empty POST over a connection it
// owns, verifies the reply with the initiator, and encrypts the messages
// that follow on that connection with [gss.Initiator.SecurityContext].
// Failures are *[NegotiateError] values, as [ResponseError] reports them.
func (t *Transport) Initiate(ctx context.Context, target *url.URL, cert *x509.Certificate) (*gss.Initiator, []byte, error) {
	if target == nil || target.Host == "" {
		return nil, nil, errors.New("auth: Initiate: target URL without a host")
	}
	req := (&http.Request{Method: http.MethodPost, URL: target, Header: make(http.Header)}).WithContext(ctx)
	sc, tok, err := t.newToken(ctx, req, urlHost(target), cert)
	if err != nil {
		return nil, nil, err
	}
	init, ok := sc.(*gss.Initiator)
	if !ok {
		return nil, nil, &NegotiateError{SPN: t.cfg.service + "/" + urlHost(target), Err: fmt.Errorf("%w: Initiate needs a pure-Go context; SSPI's holds no keys", gss.ErrUnsupported)}
	}
	return init, tok, nil
}
