package wsman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/wsman/encryption"
)

// reply is an HTTP response with its body read (and decrypted).
type reply struct {
	status      int
	statusText  string
	contentType string
	body        []byte
	// trusted: the body is SOAP the client may parse: it was decrypted,
	// or it came unencrypted on a connection that was never encrypted.
	trusted bool
	authErr error // why a 401 could not be answered
}

// sender delivers one envelope and returns the reply.
type sender interface {
	send(ctx context.Context, envelope []byte) (*reply, error)
	close()
}

// readLimited reads a body of at most max bytes.
func readLimited(r io.Reader, max int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("response body exceeds %d bytes", max)
	}
	return b, nil
}

const userAgent = "krbhttp-wsman/1"

// newPost is a POST of body (nil for none) to target.
func newPost(ctx context.Context, target, contentType string, body []byte) (*http.Request, error) {
	var r io.Reader = http.NoBody
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// plainSender posts plain SOAP through an http.RoundTripper.
type plainSender struct {
	rt      http.RoundTripper
	target  string
	maxBody int
}

func (p *plainSender) send(ctx context.Context, envelope []byte) (*reply, error) {
	req, err := newPost(ctx, p.target, encryption.SOAPContentType, envelope)
	if err != nil {
		return nil, err
	}
	resp, err := p.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body, p.maxBody)
	if err != nil {
		return nil, err
	}
	r := &reply{status: resp.StatusCode, statusText: resp.Status, contentType: resp.Header.Get("Content-Type"), body: body, trusted: true}
	if resp.StatusCode == http.StatusUnauthorized {
		r.authErr = auth.ResponseError(resp)
	}
	return r, nil
}

func (p *plainSender) close() {
	if c, ok := p.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Limits of the pool of encrypted sessions.
const (
	maxIdleSessions    = 4
	sessionIdleTimeout = 60 * time.Second
)

// ErrConnectionLost: the connection an encryption session was bound to
// is gone. Windows binds message encryption to the TCP connection that
// authenticated it, so the session cannot go on over another one: a
// message is then sent in a new session (once, when it had not been sent
// at all), never over a fresh connection without a context.
var ErrConnectionLost = errors.New("wsman: the connection of the encryption session was lost")

// encSender sends encrypted messages, each in a session: a Kerberos
// context bound to one connection. Every session has its own
// *http.Transport, a clone of the client's base transport (so its TLS
// configuration, proxy, dialer and header limits apply), restricted to
// HTTP/1.1 and to that one connection. Sessions are set up through the
// client's *auth.Transport, whose base routes each setup request to the
// transport of its session, so challenges, service principal names,
// channel bindings, credentials and mutual authentication are auth's; the
// transport reports the established context through auth.ClientTrace.
type encSender struct {
	target  string
	auth    *auth.Transport // over sessionRouter
	base    *http.Transport // what session transports are cloned from
	maxBody int
	logger  *slog.Logger

	mu     sync.Mutex // guards idle and closed
	idle   []*session // most recently used last
	closed bool
}

// session is one Kerberos context and the transport of its connection.
type session struct {
	tr        *http.Transport
	dialer    *pinnedDialer
	enc       *encryption.Session
	idleSince time.Time
}

func (s *session) close() { s.tr.CloseIdleConnections() }

func (s *encSender) send(ctx context.Context, envelope []byte) (*reply, error) {
	// A message that found its session's connection gone was not sent
	// at all; it gets one more try in a new session.
	for retried := false; ; retried = true {
		sess, fresh, err := s.get(ctx)
		if err != nil {
			return nil, err
		}
		r, err := s.exchange(ctx, sess, envelope)
		if err == nil {
			return r, nil
		}
		sess.close()
		if fresh || retried || !errors.Is(err, ErrConnectionLost) {
			return nil, err
		}
		s.log(ctx, "wsman: the connection of an idle session was closed; setting up a new one")
	}
}

// exchange sends one encrypted message in sess and puts sess back in the
// pool when the exchange left it usable.
func (s *encSender) exchange(ctx context.Context, sess *session, envelope []byte) (*reply, error) {
	ct, body, err := sess.enc.Encrypt(envelope)
	if err != nil {
		return nil, err
	}
	req, err := newPost(ctx, s.target, ct, body)
	if err != nil {
		return nil, err
	}
	resp, err := sess.tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := readLimited(resp.Body, s.maxBody)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r := &reply{status: resp.StatusCode, statusText: resp.Status, contentType: resp.Header.Get("Content-Type")}
	switch {
	case encryption.IsEncrypted(r.contentType):
		if r.body, err = sess.enc.Decrypt(r.contentType, respBody); err != nil {
			return nil, err
		}
		r.trusted = true
		r.contentType = encryption.SOAPContentType
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusInternalServerError:
		// SOAP in the clear on an encrypted connection: a downgrade.
		return nil, &TamperedError{Reason: fmt.Sprintf("HTTP %d reply to an encrypted request is not encrypted", resp.StatusCode)}
	default:
		// 401, 413, a proxy's page: nothing to parse, and the server
		// may not have consumed our sequence number.
		sess.close()
		return r, nil
	}
	if resp.Close {
		sess.close()
	} else {
		s.put(sess)
	}
	return r, nil
}

// get returns an idle session, or a new one (fresh).
func (s *encSender) get(ctx context.Context) (sess *session, fresh bool, err error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, false, errors.New("client closed")
		}
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			sess, err := s.newSession(ctx)
			return sess, true, err
		}
		sess := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		// The loop ends: every round removes one of at most
		// maxIdleSessions.
		if time.Since(sess.idleSince) < sessionIdleTimeout {
			return sess, false, nil
		}
		sess.close()
	}
}

func (s *encSender) put(sess *session) {
	sess.idleSince = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.idle) >= maxIdleSessions {
		sess.close()
		return
	}
	s.idle = append(s.idle, sess)
}

func (s *encSender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, sess := range s.idle {
		sess.close()
	}
	s.idle = nil
}

// newSession sets up a context: an empty POST carrying the initial token,
// answered by 200 and the server's reply token, which must verify.
func (s *encSender) newSession(ctx context.Context) (*session, error) {
	sess := s.sessionTransport()
	var established *auth.Authenticated
	trace := &auth.ClientTrace{Authenticated: func(a auth.Authenticated) { established = &a }}
	req, err := newPost(auth.WithClientTrace(withSession(ctx, sess), trace), s.target, encryption.SOAPContentType, nil)
	if err != nil {
		return nil, err
	}
	if err := s.setup(req, sess, &established); err != nil {
		sess.close()
		return nil, err
	}
	s.log(ctx, "wsman: encrypted session established", "protocol", sess.enc.Protocol())
	return sess, nil
}

func (s *encSender) setup(req *http.Request, sess *session, established **auth.Authenticated) error {
	resp, err := s.auth.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, int64(s.maxBody)))
	_ = resp.Body.Close()
	const action = "setup of message encryption"
	switch a := *established; {
	case resp.StatusCode != http.StatusOK:
		return &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Action: action, Err: auth.ResponseError(resp)}
	case a == nil:
		return &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Action: action,
			Err: errors.New("the server did not complete the Kerberos context (no verified reply token): message encryption needs it; keep mutual authentication required")}
	case resp.Close:
		return errors.New("the server closed the connection it had just authenticated: message encryption needs connection-bound authentication (authPersistNonNTLM)")
	case !sess.dialer.pin(a.Conn):
		return errors.New("the Kerberos context was established on a connection the session did not make")
	default:
		protocol := encryption.ProtocolSPNEGO
		if a.Scheme == auth.SchemeKerberos {
			protocol = encryption.ProtocolKerberos
		}
		sess.enc, err = encryption.NewSessionWith(a.Protector, protocol)
		return err
	}
}

// sessionTransport clones the base transport for one session: HTTP/1.1,
// one connection, dialed once.
func (s *encSender) sessionTransport() *session {
	tr := s.base.Clone()
	d := &pinnedDialer{dial: tr.DialContext, dialTLS: tr.DialTLSContext}
	//lint:ignore SA1019 a base may still set the deprecated Dial and DialTLS
	dial, dialTLS := tr.Dial, tr.DialTLS
	if d.dial == nil && dial != nil {
		d.dial = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	if d.dialTLS == nil && dialTLS != nil {
		d.dialTLS = func(_ context.Context, network, addr string) (net.Conn, error) { return dialTLS(network, addr) }
	}
	if d.dial == nil {
		d.dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	//lint:ignore SA1019 the pinned dialer replaces the deprecated fields too
	tr.Dial, tr.DialTLS = nil, nil
	tr.DialContext = d.dialContext
	if d.dialTLS != nil {
		tr.DialTLSContext = d.dialTLSContext
	}
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, tr.MaxIdleConns = 1, 1, 1
	tr.DisableKeepAlives = false
	tr.ForceAttemptHTTP2 = false
	var p http.Protocols
	p.SetHTTP1(true)
	tr.Protocols = &p
	return &session{tr: tr, dialer: d}
}

// pinnedDialer dials a session's connection. Until the context is
// established any number of dials may happen (a server may close the
// connection that carried a 401); after it, the connection is the
// context's and another dial fails with ErrConnectionLost, so that no
// message ever goes over a connection the context does not belong to.
type pinnedDialer struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	dialTLS func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex // guards last and pinned
	last   net.Conn
	pinned bool
}

func (d *pinnedDialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.do(ctx, network, addr, d.dial)
}

func (d *pinnedDialer) dialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.do(ctx, network, addr, d.dialTLS)
}

func (d *pinnedDialer) do(ctx context.Context, network, addr string, dial func(context.Context, string, string) (net.Conn, error)) (net.Conn, error) {
	d.mu.Lock()
	pinned := d.pinned
	d.mu.Unlock()
	if pinned {
		return nil, ErrConnectionLost
	}
	conn, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pinned {
		_ = conn.Close()
		return nil, ErrConnectionLost
	}
	d.last = conn
	return conn, nil
}

// pin binds the dialer to the connection the context was established on
// and reports whether that is the one it dialed last (conn may wrap it:
// TLS, or TLS to the target inside TLS to a proxy).
func (d *pinnedDialer) pin(conn net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pinned = true
	for conn != nil && d.last != nil {
		if conn == d.last {
			return true
		}
		w, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		conn = w.NetConn()
	}
	return false
}

type sessionKey struct{}

func withSession(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// sessionRouter is the base of the auth.Transport that sets sessions up:
// it sends each request through the transport of the session in its
// context. It reports the transport the sessions' are cloned from as the
// one it wraps, so that auth can learn the server's certificate first and
// bind even the first token up front to it (a setup under the Kerberos
// scheme cannot answer a Negotiate challenge for bindings).
type sessionRouter struct{ base *http.Transport }

// WrappedRoundTripper returns the transport sessions are cloned from.
func (r sessionRouter) WrappedRoundTripper() http.RoundTripper { return r.base }

func (sessionRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	s, _ := req.Context().Value(sessionKey{}).(*session)
	if s == nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errors.New("wsman: request outside an encryption session")
	}
	return s.tr.RoundTrip(req)
}

func (s *encSender) log(ctx context.Context, msg string, args ...any) {
	if s.logger != nil {
		s.logger.Log(ctx, slog.LevelDebug, msg, args...)
	}
}
