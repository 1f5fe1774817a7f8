package auth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

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
type Transport struct {
	base  http.RoundTripper
	cfg   config
	conns *connTracker

	// negotiateHosts holds the origins ("https://host:port") that have
	// answered with a Negotiate challenge, for WithPreemptiveAfterChallenge.
	negotiateHosts sync.Map
	// certs holds the last TLS leaf certificate seen per origin, so that a
	// token sent up front can carry channel bindings.
	certs sync.Map
	// probes learns a certificate before the first preemptive request to
	// an origin (see preemptiveCert).
	probes certProbes

	srcMu sync.Mutex // guards src
	src   credentials.Source

	platform platformCredentials // SSPI's credentials on Windows (sspi_windows.go)

	confOnce sync.Once
	conf     *krb5conf.Config
	confErr  error
}

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
	if base == nil {
		base = http1Transport()
	}
	t := &Transport{base: base, cfg: cfg, conns: newConnTracker(), src: cfg.source}
	if cfg.krb5conf != nil {
		t.confOnce.Do(func() { t.conf = cfg.krb5conf })
	}
	return t, nil
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

// WrappedRoundTripper returns the base transport.
func (t *Transport) WrappedRoundTripper() http.RoundTripper { return t.base }

// CloseIdleConnections forwards to the base transport when it has the
// method.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
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

func (t *Transport) credentialOptions() []credentials.Option {
	var opts []credentials.Option
	if t.cfg.logger != nil {
		opts = append(opts, credentials.WithLogger(t.cfg.logger))
	}
	if t.cfg.delegation != DelegateNever {
		// Delegation forwards the TGT, which a login must ask for.
		opts = append(opts, credentials.WithForwardable(true))
	}
	return opts
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeRequestBody(req)
		return nil, errors.New("auth: request has no URL")
	}
	ctx, slot := withErrorSlot(req.Context())
	x := &exchange{t: t, req: req, ctx: ctx, slot: slot, origin: origin(req), host: urlHost(req.URL)}
	return x.run()
}

// exchange is the state of one RoundTrip: at most two sends, the second
// only after a Negotiate challenge.
type exchange struct {
	t      *Transport
	req    *http.Request
	ctx    context.Context
	slot   *errorSlot
	origin string
	host   string

	getBody  func() (io.ReadCloser, error) // nil when the body cannot be replayed
	tokenErr error                         // a token could not be built; do not try again
}

func (x *exchange) run() (*http.Response, error) {
	t := x.t
	var (
		init   secContext
		header string
	)
	if t.cfg.forcePreemptive || t.cfg.preemptive && t.hostChallenged(x.origin) {
		init, header = x.token(t.preemptiveCert(x.ctx, x.req, x.origin))
	}
	first, err := x.prepareBody(header != "")
	if err != nil {
		return nil, err
	}
	resp, conn, err := x.send(first, header, x.expectContinue(header != ""))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		if _, ok := findChallenge(resp.Header, headerChallenge, schemeNegotiate); ok {
			t.negotiateHosts.Store(x.origin, struct{}{})
			var retried bool
			resp, conn, init, retried, err = x.answerChallenge(resp)
			if err != nil || !retried {
				return resp, err
			}
		}
	}
	return t.verify(x.ctx, resp, conn, init)
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

// answerChallenge answers a 401 Negotiate challenge with a fresh token and
// sends the request once more. When no token can be built the 401 is
// returned untouched (retried false) and the reason goes to ResponseError.
func (x *exchange) answerChallenge(resp *http.Response) (*http.Response, net.Conn, secContext, bool, error) {
	if x.tokenErr != nil {
		return resp, nil, nil, false, nil
	}
	if x.getBody == nil {
		discard(resp)
		return nil, nil, nil, false, fmt.Errorf("%w (%s %s)", ErrBodyNotReplayable, x.req.Method, redactedURL(x.req))
	}
	init, header := x.token(leafCert(resp))
	if init == nil {
		return resp, nil, nil, false, nil
	}
	body, err := x.getBody()
	if err != nil {
		discard(resp)
		return nil, nil, nil, false, fmt.Errorf("auth: rewinding the request body: %w", err)
	}
	h := headerWithCookies(x.req.Header, resp)
	discard(resp)
	x.t.log(x.ctx, slog.LevelDebug, "negotiate: answering challenge", "origin", x.origin)
	resp, conn, err := x.send(body, header, h)
	if err != nil {
		return nil, nil, nil, false, err
	}
	return resp, conn, init, true, nil
}

// send clones the caller's request with the given body, headers and
// Authorization value and sends it, recording the connection used.
func (x *exchange) send(body io.ReadCloser, authz string, h http.Header) (*http.Response, net.Conn, error) {
	ctx, probe := x.t.conns.withConnProbe(x.ctx)
	r := x.req.Clone(ctx)
	r.Header = h.Clone()
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Body = body
	if x.getBody != nil {
		r.GetBody = x.getBody
	}
	if authz != "" {
		r.Header.Set(headerAuthorize, authz)
	}
	resp, err := x.t.base.RoundTrip(r)
	if err != nil {
		return nil, nil, err
	}
	if leaf := leafCert(resp); leaf != nil {
		x.t.certs.Store(x.origin, leaf)
	}
	return resp, probe.get(), nil
}

// token builds an Authorization value. On failure it records the reason
// for ResponseError and returns a nil initiator.
func (x *exchange) token(cert *x509.Certificate) (secContext, string) {
	init, tok, err := x.t.newToken(x.ctx, x.req, x.host, cert)
	if err != nil {
		x.tokenErr = err
		x.slot.set(err)
		x.t.log(x.ctx, slog.LevelWarn, "negotiate: cannot build token", "origin", x.origin, "error", err)
		return nil, ""
	}
	return init, schemeNegotiate + " " + base64.StdEncoding.EncodeToString(tok)
}

func (t *Transport) newToken(ctx context.Context, req *http.Request, host string, cert *x509.Certificate) (secContext, []byte, error) {
	if t.cfg.hostOverride != "" {
		host = t.cfg.hostOverride
	}
	spns := t.spnCandidates(ctx, host)
	if t.useSSPI() {
		if !t.cfg.channelBinding || !strings.EqualFold(req.URL.Scheme, "https") {
			cert = nil
		}
		sc, tok, _, err := t.platform.start(ctx, t, spns, t.cfg.format, cert)
		return sc, tok, err
	}
	src, err := t.source()
	if err != nil {
		return nil, nil, &NegotiateError{SPN: spns[0], Err: err}
	}
	var tkt *ticket.Ticket
	for i, spn := range spns {
		tkt, err = src.ServiceTicket(ctx, spn)
		if err == nil {
			break
		}
		if i == len(spns)-1 || !errors.Is(err, credentials.ErrPrincipalUnknown) {
			return nil, nil, &NegotiateError{SPN: spn, Err: err}
		}
	}
	flags := gss.FlagSequence
	if t.cfg.mutual != MutualDisabled {
		flags |= gss.FlagMutual
	}
	var bindings []byte
	if t.cfg.channelBinding && strings.EqualFold(req.URL.Scheme, "https") && cert != nil {
		bindings = gss.TLSServerEndPoint(cert)
	}
	deleg, err := t.delegation(ctx, src, tkt)
	if err != nil {
		return nil, nil, &NegotiateError{SPN: spns[0], Err: err}
	}
	if deleg != nil {
		flags |= gss.FlagDelegate
	}
	init, tok, err := gss.NewInitiator(gss.InitiatorConfig{
		Ticket:          tkt,
		Flags:           flags,
		Format:          t.cfg.format,
		ChannelBindings: bindings,
		Delegation:      deleg,
	})
	if err != nil {
		return nil, nil, &NegotiateError{SPN: spns[0], Err: err}
	}
	return init, tok, nil
}

// verify applies the mutual authentication rules to a final response.
func (t *Transport) verify(ctx context.Context, resp *http.Response, conn net.Conn, init secContext) (*http.Response, error) {
	if resp.StatusCode == http.StatusUnauthorized || t.cfg.mutual == MutualDisabled {
		return resp, nil
	}
	// An HTTP/2 connection multiplexes requests, so authenticating one
	// stream says nothing about the others.
	if resp.ProtoMajor >= 2 {
		conn = nil
	}
	value, _ := findChallenge(resp.Header, headerChallenge, schemeNegotiate)
	if value == "" {
		switch {
		case t.conns.authenticated(conn), t.cfg.mutual == MutualOptional:
			return resp, nil
		case resp.StatusCode >= 400:
			t.log(ctx, slog.LevelWarn, "negotiate: error response without a mutual authentication token", "status", resp.StatusCode)
			if t.cfg.sanitize {
				return sanitized(resp), nil
			}
			return resp, nil
		}
		return nil, refuse(resp, "the response carries no Negotiate token", nil)
	}
	if init == nil {
		if t.conns.authenticated(conn) {
			return resp, nil
		}
		return nil, refuse(resp, "a Negotiate token came back for a request that sent none", nil)
	}
	raw, err := decodeToken(value)
	if err == nil {
		err = init.Accept(raw)
	}
	if err != nil {
		return nil, refuse(resp, "the server's token does not verify", err)
	}
	t.conns.markAuthenticated(conn)
	t.log(ctx, slog.LevelDebug, "negotiate: server authenticated", "status", resp.StatusCode)
	return resp, nil
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
	_, ok := t.negotiateHosts.Load(origin)
	return ok
}

func (t *Transport) cachedCert(origin string) *x509.Certificate {
	c, _ := t.certs.Load(origin)
	cert, _ := c.(*x509.Certificate)
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

// headerWithCookies copies h and adds the cookies the 401 set, replacing
// same-named ones, because http.Client's jar only sees them after
// RoundTrip returns, too late for the retry.
func headerWithCookies(h http.Header, resp *http.Response) http.Header {
	set := resp.Cookies()
	if len(set) == 0 {
		return h
	}
	out := h.Clone()
	if out == nil {
		out = make(http.Header)
	}
	probe := &http.Request{Header: h}
	fresh := make(map[string]bool, len(set))
	var parts []string
	for _, c := range set {
		if c.MaxAge < 0 || c.Value == "" {
			continue
		}
		fresh[c.Name] = true
		parts = append(parts, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
	}
	for _, c := range probe.Cookies() {
		if !fresh[c.Name] {
			parts = append(parts, c.String())
		}
	}
	out.Del("Cookie")
	if len(parts) > 0 {
		out.Set("Cookie", strings.Join(parts, "; "))
	}
	return out
}
