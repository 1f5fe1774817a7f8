package webhdfs

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/internal/endpoint"
)

// New returns a client for the WebHDFS REST API of the namenode at baseURL
// (scheme, host and port, e.g. "https://namenode.example.com:9871", or a
// gateway's root such as "https://knox.example.com:8443/gateway/default";
// the /webhdfs/v1 prefix is part of each operation's path). Its requests go
// through auth.NewClient(opts...): Kerberos Negotiate with the secure
// defaults of package auth (mutual authentication required, channel
// binding over HTTPS) unless opts change them. Redirects to datanodes are
// followed and authenticated to each datanode's own service principal.
func New(baseURL string, opts ...auth.Option) (*ClientWithResponses, error) {
	hc, err := endpoint.NewClient("webhdfs", baseURL, opts)
	if err != nil {
		return nil, err
	}
	return NewWithClient(baseURL, hc)
}

// NewWithClient is [New] with the caller's HTTP client: typically an
// *http.Client whose Transport is an [auth.Transport] over a base
// transport of the caller's (TLS roots, proxy, timeouts). An *http.Client
// is copied, never modified, so that its redirects can keep Expect:
// 100-continue (see below); any other doer is used as it is. The client
// must follow redirects, as http.Client does by default, for CREATE,
// APPEND and OPEN to reach the datanode, and its base transport should
// wait for 100 Continue (a nonzero ExpectContinueTimeout, as in a clone of
// http.DefaultTransport): a server that answers a request with a large
// body without reading it may reset the connection before Go reads the
// answer. The request conventions of WebHDFS (unescaped slashes in paths,
// rewindable [FileBody] bodies, Expect: 100-continue) apply as with New.
func NewWithClient(baseURL string, hc HttpRequestDoer) (*ClientWithResponses, error) {
	if err := endpoint.Check("webhdfs", baseURL, hc); err != nil {
		return nil, err
	}
	if c, ok := hc.(*http.Client); ok {
		hc = continueOnRedirect(c)
	}
	return NewClientWithResponses(baseURL, WithHTTPClient(hc), WithRequestEditorFn(prepare))
}

// continueOnRedirect returns a copy of c (c itself is left alone) whose
// redirected requests keep "Expect: 100-continue" working. http.Client
// builds the request for a redirect without a protocol version, and
// http.Transport only waits for 100 Continue on requests that say
// HTTP/1.1, so the body would go to the datanode at once, before the
// datanode has authenticated the client; a datanode that answers that
// first request with a 401, without reading the body, then resets the
// connection under the body still being written.
func continueOnRedirect(c *http.Client) *http.Client {
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("webhdfs: stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &cc
}

// maxRedirects is http.Client's default limit.
const maxRedirects = 10

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
	// MKDIRS and RENAME go through PutWithBody with no content type.
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
