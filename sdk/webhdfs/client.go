package webhdfs

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/internal/endpoint"
)

// New returns a client for the WebHDFS REST API of the namenode at baseURL
// (scheme, host and port, e.g. "https://namenode.example.com:9871", or a
// gateway's root such as "https://knox.example.com:8443/gateway/default";
// the /webhdfs/v1 prefix is part of each operation's path). Its requests
// to the namenode go through auth.NewClient(opts...): Kerberos Negotiate
// with the secure defaults of package auth (mutual authentication
// required, channel binding over HTTPS) unless opts change them. Redirects
// to datanodes are followed as the package documentation describes:
// without Kerberos, on the strength of the namenode's authentication.
func New(baseURL string, opts ...auth.Option) (*ClientWithResponses, error) {
	hc, err := endpoint.NewClient("webhdfs", baseURL, opts)
	if err != nil {
		return nil, err
	}
	return NewWithClient(baseURL, hc)
}

// NewWithClient is [New] with the caller's HTTP client, which is copied,
// never modified. Give an *http.Client whose Transport is an
// [*auth.Transport] over a base transport of the caller's (TLS roots,
// proxy, timeouts): requests to the namenode go through the auth.Transport,
// and requests to the datanodes an authenticated namenode redirects to go
// straight through its base transport, with no Kerberos. With any other
// client or doer (a transport wrapping an auth.Transport, a plain client,
// a mock), every request goes through it; datanode requests then carry a
// context that lets an auth.Transport inside take a datanode's response
// without a reply token (see [auth.WithMutualAuthenticationFor]). The base
// transport should wait for 100 Continue (a nonzero
// ExpectContinueTimeout, as in a clone of http.DefaultTransport): a server
// that answers a request with a large body without reading it may reset
// the connection before Go reads the answer. The request conventions of
// WebHDFS (unescaped slashes in paths, rewindable [FileBody] bodies,
// Expect: 100-continue) apply as with New.
func NewWithClient(baseURL string, hc HttpRequestDoer) (*ClientWithResponses, error) {
	if err := endpoint.Check("webhdfs", baseURL, hc); err != nil {
		return nil, err
	}
	d, err := newDoer(baseURL, hc)
	if err != nil {
		return nil, err
	}
	return NewClientWithResponses(baseURL, WithHTTPClient(d), WithRequestEditorFn(prepare))
}

// NewWithDelegationToken returns a client that authenticates every
// request with a delegation token (the urlString of GETDELEGATIONTOKEN's
// Token) instead of Kerberos, so that a long job keeps working after its
// Kerberos tickets expire: the token is valid until its renewer stops
// renewing it (RENEWDELEGATIONTOKEN, every 24 hours by default) or, at
// most, for its maximum lifetime (7 days by default). hc is the HTTP
// client to use (nil: one with a clone of http.DefaultTransport); it needs
// no Kerberos, and it should speak HTTPS to the cluster, since the token
// travels in the URL. Operations that need Kerberos (GETDELEGATIONTOKEN,
// RENEWDELEGATIONTOKEN) fail with a token.
func NewWithDelegationToken(baseURL, token string, hc HttpRequestDoer) (*ClientWithResponses, error) {
	if token == "" {
		return nil, errors.New("webhdfs: empty delegation token")
	}
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if err := endpoint.Check("webhdfs", baseURL, hc); err != nil {
		return nil, err
	}
	d, err := newDoer(baseURL, hc)
	if err != nil {
		return nil, err
	}
	return NewClientWithResponses(baseURL, WithHTTPClient(d), WithRequestEditorFn(prepare), WithRequestEditorFn(withToken(token)))
}

// withToken adds the delegation parameter to requests that do not set one.
func withToken(token string) RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		q := req.URL.Query()
		if q.Get("delegation") == "" {
			q.Set("delegation", token)
			req.URL.RawQuery = q.Encode()
		}
		return nil
	}
}

// prefix is where every WebHDFS path starts.
const prefix = "/webhdfs/v1/"

// prepare adapts a generated request to what WebHDFS servers expect. It
// runs once per call, before the client sends the request and follows
// any redirect.
func prepare(_ context.Context, req *http.Request) error {
	// The generated code escapes the path parameter as one segment, so
	// "user/alice" would travel as "user%2Falice", which Hadoop's Jetty
	// does not take for a path. HDFS names cannot contain a slash, so the
	// decoded path is the one to send; a leading slash the caller kept is
	// dropped rather than doubled.
	if i := strings.Index(req.URL.Path, prefix); i >= 0 {
		head, rest := req.URL.Path[:i+len(prefix)], req.URL.Path[i+len(prefix):]
		req.URL.Path = head + strings.TrimLeft(rest, "/")
		req.URL.RawPath = ""
	}
	// Operations without data go through PutWithBody and PostWithBody
	// with no content type.
	if req.Header.Get("Content-Type") == "" {
		req.Header.Del("Content-Type")
	}
	if fb, ok := req.Body.(*fileBody); ok {
		req.ContentLength = fb.size
		req.GetBody = fb.rewind
		if fb.size == 0 {
			req.Body, req.GetBody = http.NoBody, nil
		}
	}
	// With a body, wait for the server's 100 Continue before sending it:
	// a namenode (which redirects without reading it) and a 401
	// challenge then cost no upload.
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength != 0 {
		req.Header.Set("Expect", "100-continue")
	}
	return nil
}

// origin is scheme://host:port of u, with the default port spelled out.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}
