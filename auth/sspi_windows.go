package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"sync"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/sspi"
)

// platformCredentials holds the logged-on user's SSPI credentials handle,
// acquired on first use. A failure is not remembered, as for the other
// sources: the user may log on to the domain between two requests.
type platformCredentials struct {
	mu    sync.Mutex
	creds *sspi.Credentials // guarded by mu
}

// hasSSPI: Windows has SSPI.
const hasSSPI = true

// credentials returns the credentials handle, acquiring it on first use.
func (p *platformCredentials) credentials(format gss.Format) (*sspi.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.creds != nil {
		return p.creds, nil
	}
	pkg := sspi.Negotiate
	if format == gss.FormatKRB5 {
		pkg = sspi.Kerberos
	}
	c, err := sspi.AcquireCurrentUser(pkg)
	if err != nil {
		return nil, err
	}
	p.creds = c
	return c, nil
}

// start starts an SSPI context with the first of the service principal
// names spns the KDC knows, as the pure-Go path tries them, and returns
// it with its initial token and the name used. mutual says whether the
// request's mutual authentication mode asks for the server's reply token
// (the per-request mode, as for the pure-Go path), delegation follows the
// transport's option, and cert (nil when no channel binding applies)
// gives the tls-server-end-point bindings.
// Delegation (either policy; delegate false for a proxy's token) asks for ISC_REQ_DELEGATE; Windows then
// forwards the TGT only to services trusted for delegation, which is
// DelegatePolicy's rule, whatever the policy says.
func (p *platformCredentials) start(ctx context.Context, t *Transport, spns []string, format gss.Format, cert *x509.Certificate, mutual, delegate bool) (secContext, []byte, string, error) {
	creds, err := p.credentials(format)
	if err != nil {
		return nil, nil, "", &NegotiateError{SPN: spns[0], Err: err}
	}
	r := sspi.Request{
		Mutual:   mutual,
		Delegate: delegate && t.cfg.delegation != DelegateNever,
	}
	if cert != nil {
		r.Bindings = gss.TLSServerEndPoint(cert)
	}
	var failure error
	for _, spn := range spns {
		r.Target = spn
		sc, tok, err := creds.Start(r)
		if err == nil {
			t.log(ctx, slog.LevelDebug, "negotiate: token from SSPI for the logged-on user", "package", creds.Package(), "spn", spn)
			if r.Delegate && !sc.Delegated() {
				t.log(ctx, slog.LevelDebug, "negotiate: SSPI did not delegate (Windows delegates only to services trusted for delegation)", "spn", spn)
			}
			return sc, tok, spn, nil
		}
		failure = &NegotiateError{SPN: spn, Err: err}
		// The next name is tried only when the KDC did not know this one.
		if !errors.Is(err, credentials.ErrPrincipalUnknown) {
			break
		}
	}
	return nil, nil, "", failure
}
