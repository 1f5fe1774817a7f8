package webhdfs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/krbhttp/krbhttp/auth"
)

// doer sends the generated client's requests and follows WebHDFS's
// redirects itself, because whom a redirected request may go to, and how,
// depends on who redirected it:
//
//   - Requests to the namenode's origin (the base URL's scheme, host and
//     port) go through the caller's client: Kerberos, mutual
//     authentication, and the namenode's hadoop.auth cookie.
//   - A redirect to another origin that a mutually authenticated namenode
//     sent (a datanode, with a delegation token in the URL) is followed
//     without Kerberos, through the base transport: Hadoop's datanodes do
//     not do SPNEGO, and the namenode's authentication is what makes the
//     target trustworthy.
//   - Any other redirect (from a namenode that did not authenticate
//     itself, or from a datanode) goes through the caller's client like
//     any request, under the client's own mutual authentication rules.
type doer struct {
	origin string          // the namenode's
	next   HttpRequestDoer // the caller's client, not following redirects
	direct HttpRequestDoer // the base transport: no Kerberos; nil when unknown
	// check is the caller's http.Client.CheckRedirect, consulted before
	// each redirect as http.Client would.
	check  func(req *http.Request, via []*http.Request) error
	cookie authCookie
}

// maxRedirects is http.Client's default limit.
const maxRedirects = 10

func newDoer(baseURL string, hc HttpRequestDoer) (*doer, error) {
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("webhdfs: base URL: %w", err)
	}
	d := &doer{origin: origin(base), next: hc}
	if c, ok := hc.(*http.Client); ok {
		cc := *c
		d.check = c.CheckRedirect
		cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		d.next = &cc
		if tr, ok := c.Transport.(*auth.Transport); ok {
			d.direct = &http.Client{
				Transport:     tr.WrappedRoundTripper(),
				CheckRedirect: cc.CheckRedirect,
				Timeout:       c.Timeout,
			}
		}
	}
	return d, nil
}

// Do sends req and follows its redirects.
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	trusted := false // the last response came from an authenticated namenode
	var via []*http.Request
	for {
		var (
			resp *http.Response
			err  error
		)
		switch {
		case origin(req.URL) == d.origin:
			resp, err = d.namenode(req)
			if err == nil {
				trusted = auth.MutuallyAuthenticated(resp) || d.cookie.vouches(resp)
			}
		case trusted:
			resp, err = d.datanode(req)
			trusted = false
		default:
			resp, err = d.next.Do(req)
		}
		if err != nil {
			return nil, err
		}
		next, err := redirected(req, resp)
		if err != nil || next == nil {
			return resp, err
		}
		via = append(via, req)
		if d.check != nil {
			switch err := d.check(next, via); {
			case errors.Is(err, http.ErrUseLastResponse):
				return resp, nil
			case err != nil:
				drain(resp)
				return nil, err
			}
		} else if len(via) >= maxRedirects {
			drain(resp)
			return nil, fmt.Errorf("webhdfs: stopped after %d redirects", maxRedirects)
		}
		drain(resp)
		req = next
	}
}

// namenode sends a request to the namenode's origin, with the hadoop.auth
// cookie when the client holds one. A request authenticated by the cookie
// gets no reply token, so its response is taken without one: TLS has
// authenticated the server (see authCookie).
func (d *doer) namenode(req *http.Request) (*http.Response, error) {
	if c := d.cookie.get(); c != "" {
		r := req.Clone(auth.WithMutualAuthenticationFor(req.Context(), auth.MutualOptional))
		r.Header.Add("Cookie", c)
		req = r
	}
	resp, err := d.next.Do(req)
	if err == nil {
		d.cookie.update(resp)
	}
	return resp, err
}

// datanode sends a request an authenticated namenode redirected to another
// origin: through the base transport when it is known, otherwise through
// the caller's client with mutual authentication waived for it.
func (d *doer) datanode(req *http.Request) (*http.Response, error) {
	if d.direct != nil {
		return d.direct.Do(req)
	}
	return d.next.Do(req.WithContext(auth.WithMutualAuthenticationFor(req.Context(), auth.MutualDisabled)))
}

// redirected returns the request that follows resp, or nil when resp is
// not a redirect to follow. 307 and 308 (what WebHDFS sends) keep the
// method and the body; 301, 302 and 303 are followed for GET and HEAD.
func redirected(req *http.Request, resp *http.Response) (*http.Request, error) {
	switch resp.StatusCode {
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return nil, nil
		}
	default:
		return nil, nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, nil
	}
	target, err := req.URL.Parse(loc)
	if err != nil {
		drain(resp)
		return nil, fmt.Errorf("webhdfs: redirect to %q: %w", loc, err)
	}
	if target.Scheme != "http" && target.Scheme != "https" {
		drain(resp)
		return nil, fmt.Errorf("webhdfs: redirect to unsupported scheme %q", target.Scheme)
	}
	next := req.Clone(req.Context())
	next.URL, next.Host = target, ""
	next.Header.Del("Cookie")
	if origin(target) != origin(req.URL) {
		next.Header.Del("Authorization")
	}
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			// The body cannot be sent again: the caller gets the
			// redirect, which CheckResponse explains.
			return nil, nil
		}
		body, err := req.GetBody()
		if err != nil {
			drain(resp)
			return nil, fmt.Errorf("webhdfs: rewinding the body for the redirect: %w", err)
		}
		next.Body = body
	}
	return next, nil
}

// drain reads a little of a discarded response, so that its connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// authCookie holds the namenode's hadoop.auth cookie, which Hadoop's
// authentication filter sets after a Kerberos login and accepts instead
// of a new login until it expires (10 hours by default): reusing it saves
// a 401 round trip and a Kerberos exchange on every request. The cookie
// authenticates the client, not the server, so it is taken only from a
// response that mutually authenticated the namenode, and sent only over
// HTTPS whose certificate chain the client verified: the server that
// accepts it is then the one TLS authenticated. Over plain HTTP, where the
// cookie would travel in clear and vouch for nobody, every request logs in
// with Kerberos.
type authCookie struct {
	mu    sync.Mutex
	value string // "hadoop.auth=..." as the Cookie header carries it; "" for none
	chain []*x509.Certificate
}

const cookieName = "hadoop.auth"

func (c *authCookie) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value
}

// update keeps the cookie a namenode response set, or forgets it when the
// namenode cleared it (its 401 does).
func (c *authCookie) update(resp *http.Response) {
	for _, ck := range resp.Cookies() {
		if ck.Name != cookieName {
			continue
		}
		c.mu.Lock()
		switch {
		case ck.Value == "" || ck.MaxAge < 0:
			c.value, c.chain = "", nil
		case auth.MutuallyAuthenticated(resp) && verifiedTLS(resp):
			c.value = (&http.Cookie{Name: ck.Name, Value: ck.Value, Quoted: ck.Quoted}).String()
			c.chain = resp.TLS.VerifiedChains[0]
		}
		c.mu.Unlock()
	}
}

// vouches reports whether resp answered a request that carried the
// cookie, over a TLS connection the client verified with the same
// certificate as the one that set it: the namenode authenticated by TLS
// where the cookie replaced Kerberos.
func (c *authCookie) vouches(resp *http.Response) bool {
	if resp.Request == nil || !verifiedTLS(resp) {
		return false
	}
	sent, err := resp.Request.Cookie(cookieName)
	if err != nil || sent.Value == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.chain) > 0 && c.chain[0].Equal(resp.TLS.VerifiedChains[0][0])
}

func verifiedTLS(resp *http.Response) bool {
	return resp.TLS != nil && len(resp.TLS.VerifiedChains) > 0 && len(resp.TLS.VerifiedChains[0]) > 0
}
