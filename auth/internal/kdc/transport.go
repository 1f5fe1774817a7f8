package kdc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/messages"
)

// Transport carries one request to a KDC of a realm and returns the reply
// bytes (a KDC reply or a KRB-ERROR). Implementations must be safe for
// concurrent use.
type Transport interface {
	Exchange(ctx context.Context, realm string, req []byte) ([]byte, error)
}

// PrimaryTransport is a Transport that can also send to a realm's primary
// KDCs alone (MIT's use_primary); it returns an error matching
// ErrNoPrimary when none is known.
type PrimaryTransport interface {
	Transport
	ExchangePrimary(ctx context.Context, realm string, req []byte) ([]byte, error)
}

// ErrNoPrimary: no primary KDC is known for the realm.
var ErrNoPrimary = errors.New("no primary KDC known")

// Defaults of [NetTransport].
const (
	DefaultAttemptTimeout = 3 * time.Second
	// DefaultUDPPreferenceLimit is MIT's: larger requests go over TCP.
	DefaultUDPPreferenceLimit = 1465
	// maxTCPReply bounds what a KDC may make us allocate over TCP; real
	// replies (with a PAC) are a few kilobytes.
	maxTCPReply = 1 << 20
	maxUDPReply = 65535
	// maxKDCs bounds the servers tried for one request.
	maxKDCs = 10
)

// NetTransport sends requests to a realm's KDCs as MIT's library does
// (sendto_kdc.c): the servers come from Settings (krb5.conf's kdc entries,
// which may be KDC proxy URLs), else from DNS (URI records, then SRV
// records) when dns_lookup_kdc is on. They are tried in MIT's order: one
// pass over the list in the preferred transport (UDP when the request fits
// udp_preference_limit, else TCP; a KDC proxy URL at its place), then the
// same servers over the other transport. A KRB_ERR_RESPONSE_TOO_BIG answer
// starts again without UDP; KDC_ERR_SVC_UNAVAILABLE moves on to the next
// server. Every attempt is bounded by AttemptTimeout and by the context;
// when the context ends first, its error is returned (errors.Is(err,
// context.DeadlineExceeded)), not ErrUnreachable.
type NetTransport struct {
	// Config supplies the settings when Settings is nil.
	Config *config.Config
	// Settings are the locator's krb5.conf settings; nil: derived from
	// Config.
	Settings *Settings
	// AttemptTimeout bounds one attempt (dial, send, receive; for a KDC
	// proxy the whole HTTPS exchange); zero means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Dialer is used for UDP, TCP and the KDC proxy's connections; nil
	// means a zero net.Dialer.
	Dialer *net.Dialer
	// DNS looks up URI, SRV and TXT records; nil means a DNS client using
	// the system's name servers.
	DNS *DNS
	// HTTPClient carries KDC proxy requests; nil means a client made per
	// set of http_anchors (see [Settings]), with the proxy from the
	// environment (HTTPS_PROXY, NO_PROXY) and redirects not followed.
	HTTPClient *http.Client
	// Logger gets one debug line per attempt; nil discards.
	Logger *slog.Logger

	clients sync.Map // anchors key -> *http.Client
}

// Exchange implements Transport.
func (t *NetTransport) Exchange(ctx context.Context, realm string, req []byte) ([]byte, error) {
	return t.exchangeWith(ctx, realm, req, false)
}

// ExchangePrimary implements PrimaryTransport.
func (t *NetTransport) ExchangePrimary(ctx context.Context, realm string, req []byte) ([]byte, error) {
	return t.exchangeWith(ctx, realm, req, true)
}

func (t *NetTransport) exchangeWith(ctx context.Context, realm string, req []byte, primary bool) ([]byte, error) {
	servers, err := t.locate(ctx, realm, primary)
	if primary && err != nil && ended(ctx) == nil {
		return nil, fmt.Errorf("%w for realm %s: %v", ErrNoPrimary, realm, err)
	}
	if err != nil {
		if cause := ended(ctx); cause != nil {
			return nil, &InterruptedError{Realm: realm, Cause: cause, Errs: []error{err}}
		}
		return nil, &UnreachableError{Realm: realm, Errs: []error{err}}
	}
	if len(servers) == 0 {
		return nil, &UnreachableError{Realm: realm}
	}
	st := t.settings()
	limit := st.UDPPreferenceLimit
	if limit <= 0 {
		limit = DefaultUDPPreferenceLimit
	}
	strategy := udpFirst
	if len(req) > limit || limit <= 1 {
		strategy = udpLast
	}
	reply, errs, tooBig := t.sendTo(ctx, realm, servers, req, strategy)
	if tooBig {
		var more []error
		reply, more, _ = t.sendTo(ctx, realm, servers, req, noUDP)
		errs = append(errs, more...)
	}
	if reply != nil {
		return reply, nil
	}
	if cause := ended(ctx); cause != nil {
		return nil, &InterruptedError{Realm: realm, Cause: cause, Errs: errs}
	}
	return nil, &UnreachableError{Realm: realm, Errs: errs}
}

// ended returns why ctx ended, or nil. A connection deadline taken from
// ctx can fire a moment before ctx's own timer: past the deadline counts,
// and ctx's timer is waited for (it is due), so that callers who look at
// ctx.Err() after this package returned see it set.
func ended(ctx context.Context) error {
	if ctx.Err() == nil && !pastDeadline(ctx) {
		return nil
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(time.Second): // a Context whose Done lags its Deadline
		return context.DeadlineExceeded
	}
}

// strategy is MIT's k5_transport_strategy.
type strategy int

const (
	udpFirst strategy = iota // small request: UDP, then TCP
	udpLast                  // large request: TCP, then UDP
	noUDP                    // after KRB_ERR_RESPONSE_TOO_BIG
)

// attempt is one network conversation: a server over one transport.
type attempt struct {
	network string // "udp", "tcp" or "https"
	server  Server
}

// plan orders the attempts as MIT's k5_sendto does: the list in order with
// each server's preferred transport, then the deferred ones.
func plan(servers []Server, s strategy) []attempt {
	var first, deferred []attempt
	add := func(network string, srv Server, now bool) {
		if now {
			first = append(first, attempt{network, srv})
		} else {
			deferred = append(deferred, attempt{network, srv})
		}
	}
	for _, srv := range servers {
		switch srv.Protocol {
		case ProtoKKDCP:
			add("https", srv, true)
		case ProtoUDP:
			if s != noUDP {
				add("udp", srv, s == udpFirst)
			}
		case ProtoTCP:
			add("tcp", srv, s != udpFirst)
		default:
			if s == udpFirst {
				add("udp", srv, true)
				add("tcp", srv, false)
			} else {
				add("tcp", srv, true)
				if s == udpLast {
					add("udp", srv, false)
				}
			}
		}
	}
	return append(first, deferred...)
}

// sendTo makes the attempts in order until one gets a usable reply. tooBig
// reports a UDP reply asking for TCP.
func (t *NetTransport) sendTo(ctx context.Context, realm string, servers []Server, req []byte, s strategy) ([]byte, []error, bool) {
	var errs []error
	for _, a := range plan(servers, s) {
		if ended(ctx) != nil {
			break
		}
		reply, err := t.attempt(ctx, realm, a, req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch code := krbErrorCode(reply); {
		case a.network == "udp" && code == errorcode.KRB_ERR_RESPONSE_TOO_BIG:
			return nil, errs, s != noUDP
		case code == errorcode.KDC_ERR_SVC_UNAVAILABLE:
			errs = append(errs, fmt.Errorf("%s %s: the KDC answered KDC_ERR_SVC_UNAVAILABLE", a.network, a.server))
			continue
		}
		return reply, errs, false
	}
	return nil, errs, false
}

// krbErrorCode returns the error code of a KRB-ERROR reply, or -1.
func krbErrorCode(reply []byte) int32 {
	if len(reply) == 0 || reply[0] != tagKRBError {
		return -1
	}
	var e messages.KRBError
	if err := safeUnmarshal(func() error { return e.Unmarshal(reply) }); err != nil {
		return -1
	}
	return e.ErrorCode
}

func (t *NetTransport) attempt(ctx context.Context, realm string, a attempt, req []byte) ([]byte, error) {
	timeout := t.AttemptTimeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var reply []byte
	var err error
	if a.network == "https" {
		reply, err = t.exchangeKKDCP(actx, realm, a.server, req)
	} else {
		reply, err = t.exchange(actx, a.network, a.server.Addr, req)
	}
	if err != nil {
		// Say which clock ran out rather than "i/o timeout".
		var opErr *net.OpError
		var proxyErr *ProxyError
		switch cause := ended(ctx); {
		case cause != nil:
			err = fmt.Errorf("%s %s: %w", a.network, a.server, cause)
		case actx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
			err = fmt.Errorf("%s %s: no reply within %v", a.network, a.server, timeout)
		case errors.As(err, &proxyErr):
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("%s %s: connection closed without a reply", a.network, a.server)
		case !errors.As(err, &opErr):
			err = fmt.Errorf("%s %s: %w", a.network, a.server, err)
		}
	}
	if t.Logger != nil {
		t.Logger.LogAttrs(ctx, slog.LevelDebug, "kdc attempt",
			slog.String("realm", realm), slog.String("network", a.network), slog.String("kdc", a.server.String()),
			slog.Int("request_bytes", len(req)), slog.Int("reply_bytes", len(reply)),
			slog.Duration("elapsed", time.Since(start)), slog.Any("error", err))
	}
	return reply, err
}

func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func (t *NetTransport) dialer() *net.Dialer {
	if t.Dialer != nil {
		return t.Dialer
	}
	return &net.Dialer{}
}

func (t *NetTransport) exchange(ctx context.Context, network, addr string, req []byte) ([]byte, error) {
	conn, release, err := DialBound(ctx, t.dialer().DialContext, network, addr)
	if err != nil {
		return nil, err
	}
	defer release()
	if network == "udp" {
		return exchangeUDP(conn, req)
	}
	return ExchangeTCP(conn, req, maxTCPReply)
}

// DialBound dials addr and ties the connection to ctx: ctx's deadline
// becomes the connection's, and ctx ending (also without a deadline) wakes
// a blocked read or write. release closes the connection.
func DialBound(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), network, addr string) (conn net.Conn, release func(), err error) {
	conn, err = dial(ctx, network, addr)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	return conn, func() { stop(); _ = conn.Close() }, nil
}

func exchangeUDP(conn net.Conn, req []byte) ([]byte, error) {
	if _, err := conn.Write(req); err != nil {
		return nil, err
	}
	buf := make([]byte, maxUDPReply)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n:n], nil
}

// ExchangeTCP sends req over a stream with its 4-byte length prefix (RFC
// 4120 7.2.2) and reads the one reply, of at most limit bytes.
func ExchangeTCP(conn net.Conn, req []byte, limit int) ([]byte, error) {
	msg := make([]byte, 4+len(req))
	binary.BigEndian.PutUint32(msg, uint32(len(req)))
	copy(msg[4:], req)
	if _, err := conn.Write(msg); err != nil {
		return nil, err
	}
	return ReadTCPMessage(conn, limit)
}

// ReadTCPMessage reads one length-prefixed Kerberos message (RFC 4120
// 7.2.2) of at most limit bytes.
func ReadTCPMessage(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || uint64(n) > uint64(limit) {
		// The high bit is reserved for extensions (RFC 5021); no KDC we
		// talk to uses it.
		return nil, fmt.Errorf("reply length %d out of range", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// InterruptedError: the caller's context ended (deadline or cancellation)
// before any KDC answered. It unwraps to the context's cause, so that
// errors.Is(err, context.DeadlineExceeded) holds, and deliberately does
// not match ErrUnreachable: the KDC may be fine, the caller gave up.
type InterruptedError struct {
	Realm string
	Cause error   // context.Cause of the request's context
	Errs  []error // the attempts made before, in order
}

func (e *InterruptedError) Error() string {
	s := fmt.Sprintf("KDC request for realm %s stopped: %v", e.Realm, e.Cause)
	if len(e.Errs) > 0 {
		s += fmt.Sprintf(" (after %d attempt(s))", len(e.Errs))
	}
	return s
}

func (e *InterruptedError) Unwrap() error { return e.Cause }

// ProxyError is a KDC proxy's HTTP answer that carries no KDC reply: a
// status other than 200, or a body that is not a KDC-PROXY-MESSAGE.
type ProxyError struct {
	URL        string
	StatusCode int    // 0 when the status was 200 and the body was bad
	Status     string // e.g. "503 Service Unavailable"
	Err        error  // the body's fault, when StatusCode is 0
}

func (e *ProxyError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("https %s: %v", e.URL, e.Err)
	}
	return fmt.Sprintf("https %s: KDC proxy answered HTTP %s", e.URL, e.Status)
}

func (e *ProxyError) Unwrap() error { return e.Err }

// redacted strips user information from a URL for messages.
func redacted(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
