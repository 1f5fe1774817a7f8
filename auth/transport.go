package auth

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

const (
	schemeNegotiate = "Negotiate"
	headerChallenge = "WWW-Authenticate"
	headerAuthorize = "Authorization"
	// maxDrain bounds how much of a discarded body (a 401 we answer, a
	// response we refuse) is read so its connection can be reused.
	maxDrain = 64 << 10
)

// Transport is an [http.RoundTripper] that authenticates requests with
// Kerberos Negotiate. It is safe for concurrent use by many goroutines and
// never modifies the caller's request.
//
// The zero Transport is ready to use: it behaves as NewTransport(nil)
// without options (its own HTTP/1.1 clone of [http.DefaultTransport], the
// default credential cache), its defaults applied on first use.
type Transport struct {
	initOnce   sync.Once
	configured bool // made by NewTransport: cfg holds the options
	base       http.RoundTripper
	given      http.RoundTripper // base as the caller gave it (see connectBase)
	cfg        config
	conns      *connTracker

	// negotiateHosts holds the origins ("https://host:port") that have
	// answered with a challenge, for PreemptiveAfterChallenge.
	negotiateHosts *lru[string, struct{}]
	// certs holds the last TLS leaf certificate seen per origin, so that a
	// token sent up front can carry channel bindings.
	certs *lru[string, *x509.Certificate]
	// canon caches canonical host names (see canonicalHost).
	canon *lru[canonKey, canonEntry]
	// probes learns a certificate before the first preemptive request to
	// an origin (see preemptiveCert).
	probes certProbes

	srcMu sync.Mutex // guards src
	src   credentials.Source

	platform platformCredentials // SSPI's credentials on Windows (sspi_windows.go)

	proxyAuth proxies // proxies that asked for Negotiate (proxy.go)

	confOnce sync.Once
	conf     *krb5conf.Config
	confErr  error
}

// maxOrigins bounds the per-origin state (origins that challenged,
// certificates); see lru.
const maxOrigins = 1024

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport that sends requests through base. A nil
// base means a clone of [http.DefaultTransport] restricted to HTTP/1.1 (see
// the package documentation for why).
func NewTransport(base http.RoundTripper, opts ...Option) (*Transport, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &Transport{base: base, cfg: cfg, configured: true, src: cfg.source}
	if cfg.krb5conf != nil {
		t.confOnce.Do(func() { t.conf = cfg.krb5conf })
	}
	t.init()
	return t, nil
}

// init applies the defaults a zero Transport lacks and makes the state.
func (t *Transport) init() {
	t.initOnce.Do(func() {
		if !t.configured {
			t.cfg = defaultConfig()
		}
		if t.base == nil {
			tr := http1Transport()
			installConnectHooks(tr) // ours: no clone needed
			t.base, t.given = tr, tr
		} else {
			t.given = t.base
			t.base = connectBase(t.base)
		}
		t.conns = newConnTracker()
		t.negotiateHosts = newLRU[string, struct{}](maxOrigins)
		t.certs = newLRU[string, *x509.Certificate](maxOrigins)
		t.canon = newLRU[canonKey, canonEntry](maxCanonHosts)
	})
}

// NewClient returns an [*http.Client] whose transport is
// NewTransport(nil, opts...).
func NewClient(opts ...Option) (*http.Client, error) {
	t, err := NewTransport(nil, opts...)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t}, nil
}

func http1Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var p http.Protocols
	p.SetHTTP1(true)
	tr.Protocols = &p
	tr.ForceAttemptHTTP2 = false
	return tr
}

// WrappedRoundTripper returns the base transport, as it was given to
// NewTransport (see [ProxyConnectTransport] for the clone requests go
// through when it uses a proxy).
func (t *Transport) WrappedRoundTripper() http.RoundTripper {
	t.init()
	return t.given
}

// CloseIdleConnections forwards to the base transport when it has the
// method.
func (t *Transport) CloseIdleConnections() {
	t.init()
	for _, rt := range []http.RoundTripper{t.base, t.given} {
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
		if t.given == t.base {
			break
		}
	}
}

// krb5conf returns the Kerberos configuration, loaded once from
// KRB5_CONFIG or /etc/krb5.conf unless WithConfig gave one. It is nil when
// loading failed; the failure surfaces when credentials are needed.
func (t *Transport) krb5conf() *krb5conf.Config {
	t.confOnce.Do(func() { t.conf, t.confErr = krb5conf.Load() })
	return t.conf
}

// source returns the ticket source, creating it on first use. A failure is
// not remembered: a user may run kinit between two requests.
func (t *Transport) source() (credentials.Source, error) {
	t.srcMu.Lock()
	defer t.srcMu.Unlock()
	if t.src != nil {
		return t.src, nil
	}
	kc := t.krb5conf()
	if kc == nil {
		return nil, t.confErr
	}
	var (
		src credentials.Source
		err error
	)
	switch {
	case t.cfg.password != "":
		src, err = credentials.NewPasswordSource(kc, t.cfg.principal, t.cfg.password, t.credentialOptions()...)
	case t.cfg.keytabPath != "":
		src, err = t.keytabSource(kc)
	default:
		src, err = credentials.NewCCacheSource(kc, t.cfg.ccacheName, t.cfg.principal, t.credentialOptions()...)
	}
	if err != nil {
		return nil, err
	}
	t.src = src
	return src, nil
}

// CredentialStats returns the counters of the transport's ticket source
// (logins, service tickets from the KDC, cache hits, refreshes; see
// [credentials.Stats]): the source the transport made, or the one given to
// [WithCredentials] if it implements [credentials.StatsSource]. It is the
// zero Stats before the first request and for a source that counts
// nothing.
func (t *Transport) CredentialStats() credentials.Stats {
	t.srcMu.Lock()
	src := t.src
	t.srcMu.Unlock()
	if s, ok := src.(credentials.StatsSource); ok {
		return s.Stats()
	}
	return credentials.Stats{}
}

func (t *Transport) credentialOptions() []credentials.Option {
	var opts []credentials.Option
	if t.cfg.logger != nil {
		opts = append(opts, credentials.WithLogger(t.cfg.logger))
	}
	if t.cfg.writeBack != nil {
		opts = append(opts, credentials.WithWriteBack(*t.cfg.writeBack))
	}
	if t.cfg.resolver != nil {
		opts = append(opts, credentials.WithResolver(t.cfg.resolver))
	}
	if t.cfg.delegation != DelegateNever {
		// Delegation forwards the TGT, which a login must ask for.
		opts = append(opts, credentials.WithForwardable(true))
	}
	if t.cfg.kdcTimeout > 0 {
		opts = append(opts, credentials.WithKDCTimeout(t.cfg.kdcTimeout))
	}
	if t.cfg.renewal {
		opts = append(opts, credentials.WithRenewal(true))
	}
	if t.cfg.refreshAt != 0 {
		opts = append(opts, credentials.WithRefreshFraction(t.cfg.refreshAt))
	}
	return opts
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.init()
	if req.URL == nil {
		closeRequestBody(req)
		return nil, errors.New("auth: request has no URL")
	}
	ctx, slot := withErrorSlot(req.Context())
	x := &exchange{t: t, req: req, ctx: ctx, slot: slot, origin: origin(req), host: urlHost(req.URL), header: req.Header}
	defer x.finishBody()
	return x.run()
}

// exchange is the state of one RoundTrip: at most three sends. The first
// goes with a token or without; a challenge to a request sent without one
// is answered once; a token the server refused is answered once more, with
// a fresh ticket (or fresh channel bindings) when there is one.
type exchange struct {
	t      *Transport
	req    *http.Request
	ctx    context.Context
	slot   *errorSlot
	origin string
	host   string
	header http.Header // of the last send, less Authorization

	getBody  func() (io.ReadCloser, error) // GetBody, or the empty body; nil with tracker
	tracker  *bodyTracker                  // the caller's body when it has no GetBody
	tokenErr error                         // a token could not be built; do not try again
	proxy    proxyExchange                 // towards a plain-http proxy (proxy.go)
}

// token is what one Authorization value was built from.
type token struct {
	init   secContext
	header string
	spn    string
	ticket *ticket.Ticket
	cert   *x509.Certificate // of the channel bindings; nil without
}

func (x *exchange) run() (*http.Response, error) {
	t := x.t
	var sent *token
	if t.cfg.preemptive == PreemptiveAlways || t.cfg.preemptive == PreemptiveAfterChallenge && t.hostChallenged(x.origin) {
		sent = x.token(t.preemptiveCert(x.ctx, x.req, x.origin))
		if err := x.interrupted(); err != nil {
			return nil, err
		}
	}
	resp, conn, err := x.send(x.requestBody(), sent, x.expectContinue(sent != nil))
	if err != nil {
		return nil, err
	}
	// Each round answers a challenge and sets answered or replaced, or
	// ends the loop: three sends at most.
	var answered, replaced bool
	for {
		if x.proxyChallenged(resp) {
			// Bounded: answerProxy sends at most once per exchange.
			if resp, err = x.answerProxy(resp, sent); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode != http.StatusUnauthorized || !x.challenged(resp) {
			break
		}
		t.negotiateHosts.put(x.origin, struct{}{})
		if err := x.interrupted(); err != nil {
			discard(resp)
			return nil, err
		}
		if x.tokenErr != nil {
			break
		}
		cert := leafCert(resp)
		var next *token
		switch {
		case !answered && (sent == nil || t.bindingsDiffer(x.req, sent.cert, cert)):
			// A request sent without a token, or with one bound to
			// another certificate (or to none), is answered.
			answered = true
			next = x.token(cert)
		case !replaced:
			// The server refused a token it should have accepted: its
			// key may have changed since the ticket was issued.
			replaced = true
			next = x.replaceRejected(sent, cert)
		}
		if err := x.interrupted(); err != nil {
			discard(resp)
			return nil, err
		}
		if next == nil {
			break
		}
		body, err := x.replayBody()
		if err != nil {
			discard(resp)
			return nil, err
		}
		x.header = retryHeader(x.header, x.req.URL, resp)
		discard(resp)
		t.log(x.ctx, slog.LevelDebug, "negotiate: answering challenge", "origin", x.origin, "replaced_ticket", replaced)
		if resp, conn, err = x.send(body, next, x.header); err != nil {
			return nil, err
		}
		sent = next
	}
	if resp.StatusCode == http.StatusProxyAuthRequired {
		// The proxy's, not the server's, and not a challenge this
		// transport answers (Basic only, or no proxy configured).
		return resp, nil
	}
	var init secContext
	if sent != nil {
		init = sent.init
		if resp.StatusCode == http.StatusUnauthorized && x.tokenErr == nil {
			x.slot.set(&NegotiateError{SPN: sent.spn, Err: ErrTokenRefused})
		}
	}
	return t.verify(x.ctx, t.mutualMode(x.req), resp, conn, init)
}

// challenged reports whether resp challenges the transport's scheme.
func (x *exchange) challenged(resp *http.Response) bool {
	_, ok := findChallenge(resp.Header, headerChallenge, string(x.t.cfg.scheme))
	return ok
}

// bindingsDiffer reports whether a token for a response with certificate
// cert would carry other channel bindings than one bound to sentCert.
func (t *Transport) bindingsDiffer(req *http.Request, sentCert, cert *x509.Certificate) bool {
	if !t.cfg.channelBinding || !strings.EqualFold(req.URL.Scheme, "https") || cert == nil {
		return false
	}
	return sentCert == nil || !sentCert.Equal(cert)
}

// expectThreshold is the body size from which a request sent without a
// token asks "Expect: 100-continue": a server that challenges it answers
// 401 before the body is sent, so a large upload crosses the network once,
// and is not cut off by a server that closes the connection on an unread
// body.
const expectThreshold = 64 << 10

// expectContinue returns the headers for the first send: the caller's,
// plus Expect: 100-continue for a large body that goes without a token.
// The base transport waits for the 100 no longer than its
// ExpectContinueTimeout (one second for http.DefaultTransport's clones).
func (x *exchange) expectContinue(tokenUpFront bool) http.Header {
	if tokenUpFront || x.req.ContentLength < expectThreshold || x.req.Header.Get("Expect") != "" {
		return x.req.Header
	}
	h := x.req.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	h.Set("Expect", "100-continue")
	return h
}

// send clones the caller's request with the given body, headers and token
// and sends it, recording the connection used.
func (x *exchange) send(body io.ReadCloser, tok *token, h http.Header) (*http.Response, net.Conn, error) {
	ctx, probe := x.t.conns.withConnProbe(withConnectState(x.ctx, x.t), x.origin)
	r := x.req.Clone(ctx)
	r.Header = h.Clone()
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Body = body
	r.GetBody = x.getBody
	if tok != nil {
		r.Header.Set(headerAuthorize, tok.header)
	}
	if err := x.authorizeProxy(r); err != nil {
		if body != nil {
			_ = body.Close()
		}
		return nil, nil, err
	}
	resp, err := x.t.base.RoundTrip(r)
	if err != nil {
		if x.retryConnect(err) {
			// The proxy asked for Negotiate on CONNECT: the tunnel
			// failed before anything was sent in it, server token
			// included.
			if body, rerr := x.replayBody(); rerr == nil {
				return x.send(body, tok, h)
			}
		}
		return nil, nil, err
	}
	if err := x.checkProxyReply(resp); err != nil {
		return nil, nil, err
	}
	if leaf := leafCert(resp); leaf != nil {
		x.t.certs.put(x.origin, leaf)
	}
	return resp, probe.get(), nil
}

// interrupted returns the token error when the request's own context
// ended it (a deadline that expired while the KDC was slow): the caller
// gets that error, errors.Is(err, context.DeadlineExceeded), rather than
// the server's 401 with "KDC unreachable" behind ResponseError.
func (x *exchange) interrupted() error {
	if x.tokenErr == nil {
		return nil
	}
	// A connection deadline taken from the context can fire a moment
	// before the context's own timer: past the deadline counts as ended.
	if dl, ok := x.ctx.Deadline(); x.ctx.Err() == nil && (!ok || time.Now().Before(dl)) {
		return nil
	}
	if errors.Is(x.tokenErr, context.DeadlineExceeded) || errors.Is(x.tokenErr, context.Canceled) {
		return x.tokenErr
	}
	return nil
}

// token builds a token for a request to the exchange's host, with channel
// bindings for cert. On failure it records the reason for ResponseError
// and returns nil.
func (x *exchange) token(cert *x509.Certificate) *token {
	tok, err := x.t.newToken(x.ctx, x.req, x.host, cert)
	if err != nil {
		x.tokenErr = err
		x.slot.set(err)
		x.t.log(x.ctx, slog.LevelWarn, "negotiate: cannot build token", "origin", x.origin, "error", err)
		return nil
	}
	return tok
}

// replaceRejected handles a 401 to a token built from sent's ticket: a
// source that can drop a refused ticket is told to, and a token is built
// from the ticket it then hands out, unless that is the refused one again
// (the source keeps it: nothing fresher to try). Nil means no retry.
func (x *exchange) replaceRejected(sent *token, cert *x509.Certificate) *token {
	if sent.ticket == nil {
		// SSPI's: Windows holds the tickets; there is none to drop.
		return nil
	}
	src, err := x.t.source()
	if err != nil {
		return nil
	}
	d, ok := src.(credentials.Dropper)
	if !ok {
		return nil
	}
	d.DropTicket(sent.spn, sent.ticket)
	next := x.token(cert)
	if next == nil || sameTicket(next.ticket, sent.ticket) {
		return nil
	}
	x.t.log(x.ctx, slog.LevelInfo, "negotiate: the server refused the service ticket; retrying with a fresh one",
		"origin", x.origin, "spn", sent.spn)
	return next
}

// sameTicket reports whether a and b are one ticket: each issued ticket
// has its own encrypted part.
func sameTicket(a, b *ticket.Ticket) bool {
	return a.Ticket.EncPart.KVNO == b.Ticket.EncPart.KVNO && bytes.Equal(a.Ticket.EncPart.Cipher, b.Ticket.EncPart.Cipher)
}

func (t *Transport) newToken(ctx context.Context, req *http.Request, host string, cert *x509.Certificate) (*token, error) {
	if t.cfg.hostOverride != "" {
		host = t.cfg.hostOverride
	}
	if !t.cfg.channelBinding || !strings.EqualFold(req.URL.Scheme, "https") {
		cert = nil
	}
	format := t.cfg.format
	if t.cfg.scheme == SchemeKerberos {
		format = gss.FormatKRB5
	}
	return t.buildToken(ctx, tokenSpec{
		spns:     t.spnCandidates(ctx, host),
		scheme:   t.cfg.scheme,
		format:   format,
		cert:     cert,
		mutual:   t.mutualMode(req) != MutualDisabled,
		delegate: true,
	})
}

// tokenSpec says what one token is built for: the server's (newToken) or
// a proxy's (proxyToken).
type tokenSpec struct {
	spns     []string // candidates, in order
	scheme   Scheme
	format   gss.Format
	cert     *x509.Certificate // channel bindings; nil for none
	mutual   bool
	delegate bool // apply the delegation policy
}

func (t *Transport) buildToken(ctx context.Context, s tokenSpec) (*token, error) {
	spns, format, cert, mutual := s.spns, s.format, s.cert, s.mutual
	if t.useSSPI() {
		sc, raw, spn, err := t.platform.start(ctx, t, spns, format, cert, mutual, s.delegate)
		if err != nil {
			return nil, err
		}
		return &token{init: sc, header: encodeToken(s.scheme, raw), spn: spn, cert: cert}, nil
	}
	src, err := t.source()
	if err != nil {
		return nil, &NegotiateError{SPN: spns[0], Err: err}
	}
	var (
		tkt *ticket.Ticket
		spn string
	)
	for i, candidate := range spns {
		spn = candidate
		tkt, err = src.ServiceTicket(ctx, spn)
		if err == nil {
			break
		}
		if i == len(spns)-1 || !errors.Is(err, credentials.ErrPrincipalUnknown) {
			return nil, &NegotiateError{SPN: spn, Err: err}
		}
	}
	flags := gss.FlagSequence
	if mutual {
		flags |= gss.FlagMutual
	}
	var bindings []byte
	if cert != nil {
		bindings = gss.TLSServerEndPoint(cert)
	}
	var deleg []byte
	if s.delegate {
		if deleg, err = t.delegation(ctx, src, tkt); err != nil {
			return nil, &NegotiateError{SPN: spn, Err: err}
		}
	}
	if deleg != nil {
		flags |= gss.FlagDelegate
	}
	init, raw, err := gss.NewInitiator(gss.InitiatorConfig{
		Ticket:          tkt,
		Flags:           flags,
		Format:          format,
		ChannelBindings: bindings,
		Delegation:      deleg,
	})
	if err != nil {
		return nil, &NegotiateError{SPN: spn, Err: err}
	}
	return &token{
		init:   init,
		header: encodeToken(s.scheme, raw),
		spn:    spn,
		ticket: tkt,
		cert:   cert,
	}, nil
}

// verify applies the mutual authentication rules of mode (see
// mutualpolicy.go) to a final response, and reports an established
// context to the request's ClientTrace.
func (t *Transport) verify(ctx context.Context, mode MutualMode, resp *http.Response, conn net.Conn, init secContext) (*http.Response, error) {
	if resp.StatusCode == http.StatusUnauthorized {
		return resp, nil
	}
	// An HTTP/2 connection multiplexes requests, so authenticating one
	// stream says nothing about the others.
	if resp.ProtoMajor >= 2 {
		conn = nil
	}
	var connOrigin string
	if resp.Request != nil && resp.Request.URL != nil {
		connOrigin = origin(resp.Request)
	}
	if mode == MutualDisabled {
		if init != nil {
			t.established(ctx, init, conn)
		}
		return resp, nil
	}
	value, _ := findChallenge(resp.Header, headerChallenge, string(t.cfg.scheme))
	if value == "" {
		switch {
		case t.conns.authenticated(conn, connOrigin):
			markAuthenticated(ctx)
			return resp, nil
		case mode == MutualOptional:
			return resp, nil
		case resp.StatusCode >= 400:
			t.log(ctx, slog.LevelWarn, "negotiate: error response without a mutual authentication token", "status", resp.StatusCode)
			if t.cfg.sanitize {
				markSanitized(ctx)
				return sanitized(resp), nil
			}
			return resp, nil
		}
		if init == nil {
			// Nothing was asked: the client sent no token, so the server
			// cannot have authenticated anyone.
			return nil, refuse(resp, "the server did not authenticate: it answered without a "+string(t.cfg.scheme)+
				" challenge, and mutual authentication is required (MutualOptional accepts such responses)", nil)
		}
		return nil, refuse(resp, "the response carries no "+string(t.cfg.scheme)+" token", nil)
	}
	if init == nil {
		if t.conns.authenticated(conn, connOrigin) {
			markAuthenticated(ctx)
			return resp, nil
		}
		return nil, refuse(resp, "a "+string(t.cfg.scheme)+" token came back for a request that sent none", nil)
	}
	raw, err := decodeToken(value)
	if err == nil {
		err = init.Accept(raw)
	}
	if err != nil {
		return nil, refuse(resp, "the server's token does not verify", err)
	}
	t.conns.markAuthenticated(conn, connOrigin)
	markAuthenticated(ctx)
	t.log(ctx, slog.LevelDebug, "negotiate: server authenticated", "status", resp.StatusCode)
	t.established(ctx, init, conn)
	return resp, nil
}

// established reports a complete context to the request's ClientTrace.
func (t *Transport) established(ctx context.Context, init secContext, conn net.Conn) {
	trace := ContextClientTrace(ctx)
	if trace == nil || trace.Authenticated == nil {
		return
	}
	p, err := init.Protector()
	if err != nil {
		return
	}
	a := Authenticated{Scheme: t.cfg.scheme, Protector: p, Conn: conn}
	if gi, ok := init.(*gss.Initiator); ok {
		a.Context = gi.SecurityContext()
	}
	trace.Authenticated(a)
}

func refuse(resp *http.Response, reason string, err error) error {
	discard(resp)
	resp.Body = http.NoBody
	return &MutualAuthenticationError{Response: resp, Reason: reason, Err: err}
}

// sanitized replaces an unauthenticated error response by one that keeps
// only its status and the Content-Length, Date and Server headers.
func sanitized(resp *http.Response) *http.Response {
	h := http.Header{"Content-Length": {"0"}}
	for _, k := range []string{"Date", "Server"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	discard(resp)
	return &http.Response{
		Status:        resp.Status,
		StatusCode:    resp.StatusCode,
		Proto:         resp.Proto,
		ProtoMajor:    resp.ProtoMajor,
		ProtoMinor:    resp.ProtoMinor,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: 0,
		Close:         resp.Close,
		Request:       resp.Request,
		TLS:           resp.TLS,
	}
}

func (t *Transport) hostChallenged(origin string) bool {
	_, ok := t.negotiateHosts.get(origin)
	return ok
}

func (t *Transport) cachedCert(origin string) *x509.Certificate {
	cert, _ := t.certs.get(origin)
	return cert
}

func (t *Transport) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if t.cfg.logger != nil {
		t.cfg.logger.Log(ctx, level, msg, args...)
	}
}

func leafCert(resp *http.Response) *x509.Certificate {
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil
	}
	return resp.TLS.PeerCertificates[0]
}

// origin keys per-host state by scheme, host and port, so that HTTP and
// HTTPS on one host, or two ports, never share it.
func origin(req *http.Request) string {
	u := req.URL
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(urlHost(u), port)
}

// discard reads a little of a response body, so that its connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	if resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
