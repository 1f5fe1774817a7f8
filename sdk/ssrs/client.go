package ssrs

import (
	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/internal/endpoint"
)

// New returns a client for the REST API v2.0 of the report server at
// baseURL, the API's root (e.g.
// "https://reports.example.com/reports/api/v2.0"). Its requests go through
// auth.NewClient(opts...): Kerberos Negotiate with the secure defaults of
// package auth (mutual authentication required, channel binding over
// HTTPS, as IIS Extended Protection expects) unless opts change them.
func New(baseURL string, opts ...auth.Option) (*ClientWithResponses, error) {
	hc, err := endpoint.NewClient("ssrs", baseURL, opts)
	if err != nil {
		return nil, err
	}
	return NewWithClient(baseURL, hc)
}

// NewWithClient is [New] with the caller's HTTP client, used as it is:
// typically an *http.Client whose Transport is an [auth.Transport] over a
// base transport of the caller's (TLS roots, proxy, timeouts). Keys travel
// as the report server's samples send them (see [PathKey]).
func NewWithClient(baseURL string, hc HttpRequestDoer) (*ClientWithResponses, error) {
	if err := endpoint.Check("ssrs", baseURL, hc); err != nil {
		return nil, err
	}
	return NewClientWithResponses(baseURL, WithHTTPClient(hc), WithRequestEditorFn(prepare))
}
