package wsman

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
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

// plainSender posts plain SOAP through an http.RoundTripper.
type plainSender struct {
	rt      http.RoundTripper
	target  string
	maxBody int
}

func (p *plainSender) send(ctx context.Context, envelope []byte) (*reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.target, bytes.NewReader(envelope))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", encryption.SOAPContentType)
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

// Limits of the encrypted connection pool.
const (
	maxIdleConns    = 4
	idleConnTimeout = 60 * time.Second
)

// encSender sends encrypted messages over connections it owns. Each
// connection carries the Kerberos context it was set up with: Windows
// binds message encryption to the TCP connection, so a message is always
// sent on the connection whose context encrypted it, and a connection
// that fails in any way is closed, never retried.
type encSender struct {
	target    *url.URL
	initiator ContextInitiator
	scheme    AuthScheme
	protocol  string
	tlsConfig *tls.Config
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	maxBody   int
	logger    *slog.Logger

	mu     sync.Mutex // guards idle and closed
	idle   []*encConn // most recently used last
	closed bool
}

// encConn is one connection with its encryption session.
type encConn struct {
	conn      net.Conn
	br        *bufio.Reader
	session   *encryption.Session
	idleSince time.Time
}

func (s *encSender) send(ctx context.Context, envelope []byte) (*reply, error) {
	cc, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.exchange(ctx, cc, envelope)
	if err != nil {
		_ = cc.conn.Close()
		return nil, err
	}
	return r, nil
}

// exchange sends one encrypted message on cc and puts cc back in the pool
// when the exchange left it usable.
func (s *encSender) exchange(ctx context.Context, cc *encConn, envelope []byte) (*reply, error) {
	ct, body, err := cc.session.Encrypt(envelope)
	if err != nil {
		return nil, err
	}
	req := s.request(ctx, body)
	req.Header.Set("Content-Type", ct)
	resp, respBody, err := cc.roundTrip(ctx, req, s.maxBody)
	if err != nil {
		return nil, err
	}
	r := &reply{status: resp.StatusCode, statusText: resp.Status, contentType: resp.Header.Get("Content-Type")}
	switch {
	case encryption.IsEncrypted(r.contentType):
		if r.body, err = cc.session.Decrypt(r.contentType, respBody); err != nil {
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
		_ = cc.conn.Close()
		return r, nil
	}
	if resp.Close {
		_ = cc.conn.Close()
	} else {
		s.put(cc)
	}
	return r, nil
}

// request builds a POST to the endpoint; req.Write sets Host from the URL.
func (s *encSender) request(ctx context.Context, body []byte) *http.Request {
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           s.target,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"User-Agent": {userAgent}},
		ContentLength: int64(len(body)),
		Host:          s.target.Host,
	}
	if len(body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return req.WithContext(ctx)
}

const userAgent = "krbhttp-wsman/1"

// get returns an idle connection that is still open, or a new one.
func (s *encSender) get(ctx context.Context) (*encConn, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errors.New("client closed")
		}
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			return s.dialAndAuthenticate(ctx)
		}
		cc := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		// The loop ends: every round removes one of at most maxIdleConns.
		if time.Since(cc.idleSince) < idleConnTimeout && cc.alive() {
			return cc, nil
		}
		_ = cc.conn.Close()
	}
}

func (s *encSender) put(cc *encConn) {
	cc.idleSince = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.idle) >= maxIdleConns {
		_ = cc.conn.Close()
		return
	}
	s.idle = append(s.idle, cc)
}

func (s *encSender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, cc := range s.idle {
		_ = cc.conn.Close()
	}
	s.idle = nil
}

// alive reports whether an idle connection is still open: the server has
// neither closed it nor sent anything unasked.
func (cc *encConn) alive() bool {
	if err := cc.conn.SetReadDeadline(time.Now()); err != nil {
		return false
	}
	_, err := cc.br.Peek(1)
	var ne net.Error
	ok := errors.As(err, &ne) && ne.Timeout()
	return cc.conn.SetReadDeadline(time.Time{}) == nil && ok
}

// dialAndAuthenticate opens a connection and sets up its context: an empty
// POST carrying the initial token, answered by 200 and the server's reply
// token, which must verify.
func (s *encSender) dialAndAuthenticate(ctx context.Context) (*encConn, error) {
	addr := s.target.Host
	if s.target.Port() == "" {
		addr = net.JoinHostPort(s.target.Hostname(), map[bool]string{true: "443", false: "80"}[s.target.Scheme == "https"])
	}
	dial := s.dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cc := &encConn{conn: conn, br: bufio.NewReader(conn)}
	if err := s.authenticate(ctx, cc); err != nil {
		_ = cc.conn.Close()
		return nil, err
	}
	s.log(ctx, "wsman: encrypted connection established", "remote", conn.RemoteAddr().String(), "protocol", s.protocol)
	return cc, nil
}

func (s *encSender) authenticate(ctx context.Context, cc *encConn) error {
	var tlsState *tls.ConnectionState
	if s.target.Scheme == "https" {
		cfg := s.tlsConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = s.target.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(cc.conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		state := tc.ConnectionState()
		tlsState = &state
		cc.conn, cc.br = tc, bufio.NewReader(tc)
	}
	init, token, err := s.initiator.Initiate(ctx, s.target, tlsLeaf(tlsState))
	if err != nil {
		return err
	}
	req := s.request(ctx, nil)
	req.Header.Set("Content-Type", encryption.SOAPContentType)
	req.Header.Set("Authorization", string(s.scheme)+" "+base64.StdEncoding.EncodeToString(token))
	resp, _, err := cc.roundTrip(ctx, req, s.maxBody)
	if err != nil {
		return err
	}
	resp.Body = http.NoBody
	resp.Request = req
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Action: "setup of message encryption"}
	}
	replyToken, err := replyToken(resp.Header, s.scheme)
	if err == nil {
		err = init.Accept(replyToken)
	}
	if err != nil {
		return &auth.MutualAuthenticationError{Response: resp, Reason: "the server's token on the encryption setup does not verify", Err: err}
	}
	if resp.Close {
		return errors.New("the server closed the connection it had just authenticated: message encryption needs connection-bound authentication (authPersistNonNTLM)")
	}
	protector, err := init.Protector()
	if err != nil {
		return err
	}
	session, err := encryption.NewSessionWith(protector, s.protocol)
	if err != nil {
		return err
	}
	cc.session = session
	return nil
}

func tlsLeaf(st *tls.ConnectionState) *x509.Certificate {
	if st == nil || len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}

// replyToken finds the server's token under scheme; none is an empty token.
func replyToken(h http.Header, scheme AuthScheme) ([]byte, error) {
	for _, v := range h.Values("WWW-Authenticate") {
		name, value, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.EqualFold(name, string(scheme)) && strings.TrimSpace(value) != "" {
			return base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		}
	}
	return nil, nil
}

// roundTrip writes req and reads the response and its body. The context's
// cancellation interrupts the I/O by expiring the connection's deadline,
// which leaves the connection unusable: the caller closes it on error.
func (cc *encConn) roundTrip(ctx context.Context, req *http.Request, maxBody int) (*http.Response, []byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = cc.conn.SetDeadline(time.Unix(1, 0)) })
	resp, body, err := cc.exchangeIO(ctx, req, maxBody)
	if !stop() && err == nil {
		// The context ended as the exchange did: the deadline may be
		// expiring under us, so the connection cannot be reused.
		err = contextError(ctx, errors.New("interrupted"))
	}
	return resp, body, err
}

func (cc *encConn) exchangeIO(ctx context.Context, req *http.Request, maxBody int) (*http.Response, []byte, error) {
	deadline, _ := ctx.Deadline()
	if err := cc.conn.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriter(cc.conn)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, nil, contextError(ctx, err)
	}
	resp, err := http.ReadResponse(cc.br, req)
	if err != nil {
		return nil, nil, contextError(ctx, err)
	}
	body, err := readLimited(resp.Body, maxBody)
	_ = resp.Body.Close()
	if err != nil {
		return nil, nil, contextError(ctx, err)
	}
	return resp, body, nil
}

// contextError prefers the context's error to the I/O error it caused.
func contextError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (s *encSender) log(ctx context.Context, msg string, args ...any) {
	if s.logger != nil {
		s.logger.Log(ctx, slog.LevelDebug, msg, args...)
	}
}
