package yarn

import (
	"context"
	"errors"
	"net/http"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/internal/endpoint"
)

// New returns a client for the REST API of the ResourceManager at baseURL
// (scheme, host and port, e.g. "https://rm.example.com:8090"; the
// /ws/v1/cluster prefix is part of each operation's path). Its requests go
// through auth.NewClient(opts...): Kerberos Negotiate with the secure
// defaults of package auth unless opts change them.
func New(baseURL string, opts ...auth.Option) (*ClientWithResponses, error) {
	hc, err := endpoint.NewClient("yarn", baseURL, opts)
	if err != nil {
		return nil, err
	}
	return NewWithClient(baseURL, hc)
}

// NewWithClient is [New] with the caller's HTTP client, used as it is:
// typically an *http.Client whose Transport is an [auth.Transport] over a
// base transport of the caller's (TLS roots, proxy, timeouts).
func NewWithClient(baseURL string, hc HttpRequestDoer) (*ClientWithResponses, error) {
	if err := endpoint.Check("yarn", baseURL, hc); err != nil {
		return nil, err
	}
	return NewClientWithResponses(baseURL, WithHTTPClient(hc))
}

// DelegationTokenHeader is the header that carries a ResourceManager delegation
// token.
const DelegationTokenHeader = "Hadoop-YARN-RM-Delegation-Token"

// NewWithDelegationToken returns a client that authenticates every
// request with a ResourceManager delegation token (CreateDelegationToken's
// Token) in the [DelegationTokenHeader] header instead of Kerberos. hc is the HTTP
// client to use (nil: one with a clone of http.DefaultTransport); it needs
// no Kerberos, and should speak HTTPS, since the token is a bearer
// credential. Delegation token operations need Kerberos and fail with a
// token.
func NewWithDelegationToken(baseURL, token string, hc HttpRequestDoer) (*ClientWithResponses, error) {
	if token == "" {
		return nil, errors.New("yarn: empty delegation token")
	}
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if err := endpoint.Check("yarn", baseURL, hc); err != nil {
		return nil, err
	}
	return NewClientWithResponses(baseURL, WithHTTPClient(hc), WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if req.Header.Get(DelegationTokenHeader) == "" {
			req.Header.Set(DelegationTokenHeader, token)
		}
		return nil
	}))
}
