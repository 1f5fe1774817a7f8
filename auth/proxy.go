package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// Proxy authentication (RFC 4559 section 4 with 407 and
// Proxy-Authenticate/Proxy-Authorization) is kept apart from the
// server's in every respect: the proxy's service principal is always
// HTTP/<proxy host> (neither WithService nor WithHostnameOverride apply),
// its tokens carry no channel bindings and no delegation, a reply token
// the proxy sends is verified against the proxy's own context, and the
// proxy's token goes only where the proxy reads it:
//
//   - plain http through a proxy: the request itself goes to the proxy
//     (absolute-URI form), so Proxy-Authorization is set on the request
//     the transport sends; net/http forwards it to the proxy, which
//     consumes it;
//   - https through a proxy: the proxy sees only the CONNECT request, so
//     the token goes on it, through the base *http.Transport's
//     GetProxyConnectHeader and OnProxyConnectResponse hooks (see
//     ProxyConnectTransport); requests inside the tunnel never carry
//     Proxy-Authorization from this transport.
//
// Once a proxy has asked for Negotiate, every later request (plain http)
// and tunnel (CONNECT) through it carries a fresh token up front: Squid,
// like most proxies, authenticates each request or tunnel, and a fresh
// authenticator is never a replay.

const (
	headerProxyChallenge = "Proxy-Authenticate"
	headerProxyAuthorize = "Proxy-Authorization"
)

// ErrProxyAuth is matched (errors.Is) by every [*ProxyAuthError].
var ErrProxyAuth = errors.New("auth: proxy authentication failed")

var (
	// errProxyChallenged: the proxy answered a CONNECT sent without a
	// token with 407 Negotiate. The exchange sends it again, once, now
	// with a token; the caller sees it only when that cannot be done.
	errProxyChallenged = errors.New("the proxy asked for Negotiate authentication (407) and the request could not be sent again")
	// errProxyRefused: the proxy answered a token with 407 again.
	errProxyRefused = errors.New("the proxy refused the Kerberos token (407 Proxy Authentication Required again)")
)

// ProxyAuthError says that authenticating to a proxy failed: the proxy
// answered 407 Negotiate and no token could be built (no ticket, unknown
// SPN), the proxy refused the token, its own reply token did not verify
// (then errors.Is(err, ErrMutualAuthentication) holds too), or the
// connection failed while the proxy's challenge was being answered.
// RoundTrip returns it as its error: unlike a server's 401, a proxy's 407
// says nothing about the server.
type ProxyAuthError struct {
	Proxy string // the proxy's scheme://host:port, without user information
	SPN   string // the proxy's service principal; "" when none was tried
	Err   error
}

func (e *ProxyAuthError) Error() string {
	msg := "auth: proxy authentication (407) to " + e.Proxy
	if e.SPN != "" {
		msg += " as " + e.SPN
	}
	if e.Err != nil {
		msg += " failed: " + e.Err.Error()
	}
	return msg
}

func (e *ProxyAuthError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrProxyAuth) true.
func (e *ProxyAuthError) Is(target error) bool { return target == ErrProxyAuth }

// proxyKey names a proxy in errors and in the set of proxies that asked
// for Negotiate: scheme://host:port, user information dropped.
func proxyKey(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + strings.ToLower(u.Host)
}

// proxies is the transport's memory of the proxies that asked for
// Negotiate, made on first use.
type proxies struct {
	once      sync.Once
	negotiate *lru[string, struct{}]
}

func (p *proxies) set() *lru[string, struct{}] {
	p.once.Do(func() { p.negotiate = newLRU[string, struct{}](maxOrigins) })
	return p.negotiate
}

func (t *Transport) proxyNegotiates(proxy *url.URL) bool {
	_, ok := t.proxyAuth.set().get(proxyKey(proxy))
	return ok
}

func (t *Transport) markProxyNegotiates(proxy *url.URL) {
	t.proxyAuth.set().put(proxyKey(proxy), struct{}{})
}

// proxyFor returns the proxy the base transport sends req through, or nil
// for a direct connection or a base whose proxy cannot be known (not an
// *http.Transport, nor a wrapper of one).
func (t *Transport) proxyFor(req *http.Request) *url.URL {
	tr, ok := httpTransport(t.base)
	if !ok || tr.Proxy == nil {
		return nil
	}
	u, err := tr.Proxy(req)
	if err != nil || u == nil || u.Host == "" {
		return nil
	}
	return u
}

// proxyToken builds a token for the proxy: HTTP/<proxy host>, SPNEGO
// under the Negotiate scheme, the mutual flag set so that a proxy that
// answers with a token can be verified, no bindings, no delegation.
func (t *Transport) proxyToken(ctx context.Context, proxy *url.URL) (*token, error) {
	spns := t.spnCandidatesFor(ctx, "HTTP", strings.TrimSuffix(strings.ToLower(proxy.Hostname()), "."))
	tok, err := t.buildToken(ctx, tokenSpec{spns: spns, scheme: SchemeNegotiate, format: gss.FormatSPNEGO, mutual: true})
	if err != nil {
		pe := &ProxyAuthError{Proxy: proxyKey(proxy), SPN: spns[0], Err: err}
		var ne *NegotiateError
		if errors.As(err, &ne) {
			pe.SPN, pe.Err = ne.SPN, ne.Err
		}
		return nil, pe
	}
	return tok, nil
}

// verifyProxy checks the proxy's reply token, when it sent one, against
// the context of the token sent to it. No token passes: proxies rarely
// send one, and the proxy is not the party the response comes from.
func (t *Transport) verifyProxy(proxy *url.URL, h http.Header, tok *token) error {
	value, _ := findChallenge(h, headerProxyChallenge, string(SchemeNegotiate))
	if value == "" || tok == nil {
		return nil
	}
	raw, err := decodeToken(value)
	if err == nil {
		err = tok.init.Accept(raw)
	}
	if err != nil {
		return &ProxyAuthError{Proxy: proxyKey(proxy), SPN: tok.spn,
			Err: fmt.Errorf("%w: the proxy's token does not verify: %w", ErrMutualAuthentication, err)}
	}
	return nil
}

// proxyExchange is an exchange's state towards a plain-http proxy.
type proxyExchange struct {
	looked   bool
	url      *url.URL // nil: direct, tunnelled (https) or unknown
	tok      *token   // the token of the last send
	answered bool     // a 407 was answered
	retried  bool     // a CONNECT 407 was answered by sending again
}

// plainProxy returns the proxy a plain-http request goes through, nil
// for https (the proxy sees CONNECT only) and direct requests.
func (x *exchange) plainProxy() *url.URL {
	if !x.proxy.looked {
		x.proxy.looked = true
		if strings.EqualFold(x.req.URL.Scheme, "http") {
			x.proxy.url = x.t.proxyFor(x.req)
		}
	}
	return x.proxy.url
}

// authorizeProxy puts a fresh proxy token on r when r goes to a proxy
// that asked for Negotiate.
func (x *exchange) authorizeProxy(r *http.Request) error {
	x.proxy.tok = nil
	proxy := x.plainProxy()
	if proxy == nil || !x.t.proxyNegotiates(proxy) || proxy.User != nil {
		// Basic credentials in the proxy URL: net/http sends them.
		return nil
	}
	tok, err := x.t.proxyToken(r.Context(), proxy)
	if err != nil {
		return err
	}
	r.Header.Set(headerProxyAuthorize, tok.header)
	x.proxy.tok = tok
	return nil
}

// proxyChallenged reports whether resp is a plain-http proxy's 407 that
// asks for Negotiate.
func (x *exchange) proxyChallenged(resp *http.Response) bool {
	if resp.StatusCode != http.StatusProxyAuthRequired || x.plainProxy() == nil {
		return false
	}
	_, ok := findChallenge(resp.Header, headerProxyChallenge, string(SchemeNegotiate))
	return ok
}

// answerProxy answers a plain-http proxy's 407 once: the same request
// again (with the server token sent, if any: the server never saw it),
// now with a proxy token. A second 407 is the proxy refusing the token.
func (x *exchange) answerProxy(resp *http.Response, sent *token) (*http.Response, error) {
	proxy := x.plainProxy()
	refused := x.proxy.tok
	discard(resp)
	x.t.markProxyNegotiates(proxy)
	if x.proxy.answered || refused != nil {
		return nil, &ProxyAuthError{Proxy: proxyKey(proxy), SPN: refused.spnOr(), Err: errProxyRefused}
	}
	x.proxy.answered = true
	body, err := x.replayBody()
	if err != nil {
		return nil, &ProxyAuthError{Proxy: proxyKey(proxy), Err: err}
	}
	x.t.log(x.ctx, slog.LevelDebug, "negotiate: answering the proxy's challenge", "proxy", proxyKey(proxy), "origin", x.origin)
	next, _, err := x.send(body, sent, x.header)
	if err != nil {
		var pe *ProxyAuthError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &ProxyAuthError{Proxy: proxyKey(proxy), Err: fmt.Errorf("after its 407: %w", err)}
	}
	return next, nil
}

func (tok *token) spnOr() string {
	if tok == nil {
		return ""
	}
	return tok.spn
}

// checkProxyReply verifies the reply token of a plain-http proxy that
// was sent a token and let the request through (whatever the server
// answered: a 401 crosses the proxy as well as a 200).
func (x *exchange) checkProxyReply(resp *http.Response) error {
	if x.proxy.tok == nil || resp.StatusCode == http.StatusProxyAuthRequired {
		return nil
	}
	if err := x.t.verifyProxy(x.proxy.url, resp.Header, x.proxy.tok); err != nil {
		discard(resp)
		return err
	}
	return nil
}

// retryConnect reports whether a send that failed with err should go
// again: the proxy answered CONNECT with 407 Negotiate for the first
// time in this exchange, so the next CONNECT carries a token.
func (x *exchange) retryConnect(err error) bool {
	if x.proxy.retried || !errors.Is(err, errProxyChallenged) {
		return false
	}
	x.proxy.retried = true
	return true
}

// ProxyConnectTransport returns a clone of tr whose CONNECT requests (the
// tunnels of https requests through a proxy) answer the proxy's
// "407 Proxy-Authenticate: Negotiate" with a Kerberos token for
// HTTP/<proxy host>, for requests sent through a [Transport]: other
// requests go as through tr. tr's own GetProxyConnectHeader (or
// ProxyConnectHeader) and OnProxyConnectResponse still run, first.
//
// [NewTransport] does this by itself to a base *http.Transport that has a
// Proxy function (the default base has http.ProxyFromEnvironment); it is
// exported for code that clones transports of its own from a base under a
// Transport, as wsman does for its per-connection encrypted transports.
func ProxyConnectTransport(tr *http.Transport) *http.Transport {
	c := tr.Clone()
	installConnectHooks(c)
	return c
}

type connectKey struct{}

// connectState is what a request's context gives the CONNECT hooks: the
// Transport that sent it, and the tokens of its CONNECTs awaiting their
// response. A dial carries the values of the request that started it.
type connectState struct {
	t *Transport

	mu     sync.Mutex // guards tokens
	tokens map[string]*token
}

func withConnectState(ctx context.Context, t *Transport) context.Context {
	return context.WithValue(ctx, connectKey{}, &connectState{t: t})
}

func (s *connectState) put(tok *token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = make(map[string]*token)
	}
	s.tokens[tok.header] = tok
}

func (s *connectState) take(header string) *token {
	if header == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.tokens[header]
	delete(s.tokens, header)
	return tok
}

func installConnectHooks(tr *http.Transport) {
	getHeader, static, onResponse := tr.GetProxyConnectHeader, tr.ProxyConnectHeader, tr.OnProxyConnectResponse
	tr.GetProxyConnectHeader = func(ctx context.Context, proxy *url.URL, target string) (http.Header, error) {
		h := static
		if getHeader != nil {
			var err error
			if h, err = getHeader(ctx, proxy, target); err != nil {
				return nil, err
			}
		}
		s, _ := ctx.Value(connectKey{}).(*connectState)
		if s == nil || proxy.User != nil || h.Get(headerProxyAuthorize) != "" || !s.t.proxyNegotiates(proxy) {
			// Not ours, or credentials of the caller's: nothing to add.
			// A proxy that never asked gets no token.
			return h, nil
		}
		tok, err := s.t.proxyToken(ctx, proxy)
		if err != nil {
			return nil, err
		}
		s.put(tok)
		h = h.Clone()
		if h == nil {
			h = make(http.Header)
		}
		h.Set(headerProxyAuthorize, tok.header)
		return h, nil
	}
	tr.OnProxyConnectResponse = func(ctx context.Context, proxy *url.URL, req *http.Request, resp *http.Response) error {
		if onResponse != nil {
			if err := onResponse(ctx, proxy, req, resp); err != nil {
				return err
			}
		}
		s, _ := ctx.Value(connectKey{}).(*connectState)
		if s == nil {
			return nil
		}
		tok := s.take(req.Header.Get(headerProxyAuthorize))
		switch {
		case resp.StatusCode == http.StatusProxyAuthRequired:
			if _, ok := findChallenge(resp.Header, headerProxyChallenge, string(SchemeNegotiate)); !ok {
				return nil // net/http reports the 407 itself
			}
			s.t.markProxyNegotiates(proxy)
			if tok != nil {
				return &ProxyAuthError{Proxy: proxyKey(proxy), SPN: tok.spn, Err: errProxyRefused}
			}
			return &ProxyAuthError{Proxy: proxyKey(proxy), Err: errProxyChallenged}
		case resp.StatusCode == http.StatusOK:
			return s.t.verifyProxy(proxy, resp.Header, tok)
		}
		return nil
	}
}

// connectBase returns the base requests go through under a Transport: a
// base *http.Transport that uses a proxy gets the CONNECT hooks, on a
// clone (the caller's transport is not changed; WrappedRoundTripper still
// returns it). A base that has them already (a ProxyConnectTransport)
// gets them twice, which is harmless: the inner hooks answer, the outer
// ones find the token set and taken.
func connectBase(base http.RoundTripper) http.RoundTripper {
	tr, ok := base.(*http.Transport)
	if !ok || tr.Proxy == nil {
		return base
	}
	return ProxyConnectTransport(tr)
}
