package kdcproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// Defaults of a [Handler].
const (
	// DefaultMaxRequestBytes is python3-kdcproxy's limit on a request body.
	DefaultMaxRequestBytes = 128 << 10
	// DefaultKDCTimeout bounds one exchange with one KDC.
	DefaultKDCTimeout = 3 * time.Second
	// DefaultTimeout bounds the whole request.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxConcurrent bounds the KDC exchanges in flight.
	DefaultMaxConcurrent = 64
	// maxReply bounds a KDC reply, as the client does.
	maxReply = 1 << 20
	// maxKDCs bounds the KDCs tried for one request.
	maxKDCs = 10
)

// Handler is the KDC proxy; see the package documentation. It is safe for
// concurrent use.
type Handler struct {
	realms        map[string][]string // realm -> KDC host:port, in order
	maxRequest    int64
	kdcTimeout    time.Duration
	timeout       time.Duration
	allowPlain    bool
	log           *slog.Logger
	dialer        *net.Dialer
	slots         chan struct{}
	maxConcurrent int
}

// New returns a handler serving the realms the options name; at least one
// realm is needed (WithRealm or WithConfig).
func New(opts ...Option) (*Handler, error) {
	h := &Handler{
		realms:        map[string][]string{},
		maxRequest:    DefaultMaxRequestBytes,
		kdcTimeout:    DefaultKDCTimeout,
		timeout:       DefaultTimeout,
		maxConcurrent: DefaultMaxConcurrent,
		dialer:        &net.Dialer{},
	}
	for _, o := range opts {
		if err := o(h); err != nil {
			return nil, err
		}
	}
	if len(h.realms) == 0 {
		return nil, errors.New("kdcproxy: no realm to serve (WithRealm or WithConfig)")
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.slots = make(chan struct{}, h.maxConcurrent)
	return h, nil
}

// Realms returns the realms served and their KDCs.
func (h *Handler) Realms() map[string][]string {
	out := make(map[string][]string, len(h.realms))
	for r, k := range h.realms {
		out[r] = append([]string(nil), k...)
	}
	return out
}

// Kerberos message tags (first byte, [APPLICATION n] constructed).
const (
	tagASReq    = 0x6a
	tagASRep    = 0x6b
	tagTGSReq   = 0x6c
	tagTGSRep   = 0x6d
	tagKRBError = 0x7e
)

func messageType(b []byte) string {
	switch b[0] {
	case tagASReq:
		return "AS-REQ"
	case tagTGSReq:
		return "TGS-REQ"
	case tagASRep:
		return "AS-REP"
	case tagTGSRep:
		return "TGS-REP"
	case tagKRBError:
		return "KRB-ERROR"
	}
	return "0x" + strconv.FormatUint(uint64(b[0]), 16)
}

// oneElement reports whether b is exactly one DER/BER element with a
// definite length (what a Kerberos message is), so that nothing else
// travels to the KDC inside a well-formed proxy message.
func oneElement(b []byte) bool {
	s := cryptobyte.String(b)
	var tag cbasn1.Tag
	var body cryptobyte.String
	return s.ReadAnyASN1(&body, &tag) && s.Empty()
}

// served is what one request came to, for the log line.
type served struct {
	realm, msgType, kdc string
	reqBytes, repBytes  int
	status              int
	err                 error
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s := h.serve(w, r)
	level := slog.LevelInfo
	if s.status >= 500 {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.Int("status", s.status), slog.String("remote", r.RemoteAddr),
		slog.Duration("elapsed", time.Since(start)),
	}
	if s.realm != "" {
		attrs = append(attrs, slog.String("realm", s.realm))
	}
	if s.msgType != "" {
		attrs = append(attrs, slog.String("type", s.msgType), slog.Int("request_bytes", s.reqBytes))
	}
	if s.kdc != "" {
		attrs = append(attrs, slog.String("kdc", s.kdc), slog.Int("reply_bytes", s.repBytes))
	}
	if s.err != nil {
		attrs = append(attrs, slog.String("error", s.err.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "kdcproxy", attrs...)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (s served) {
	fail := func(code int, err error) served {
		s.status, s.err = code, err
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_, _ = fmt.Fprintln(w, err)
		return s
	}
	if r.TLS == nil && !h.allowPlain {
		return fail(http.StatusForbidden, errors.New("the KDC proxy is served over HTTPS only"))
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed", r.Method))
	}
	if r.ContentLength < 0 {
		return fail(http.StatusLengthRequired, errors.New("length required"))
	}
	if r.ContentLength > h.maxRequest {
		return fail(http.StatusRequestEntityTooLarge, fmt.Errorf("request of %d bytes exceeds %d", r.ContentLength, h.maxRequest))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxRequest))
	if err != nil {
		return fail(http.StatusBadRequest, fmt.Errorf("reading the request: %w", err))
	}
	m, err := kdc.DecodeProxyMessage(body)
	if err != nil {
		return fail(http.StatusBadRequest, err)
	}
	s.realm, s.msgType, s.reqBytes = m.Realm, messageType(m.Message), len(m.Message)
	if m.Message[0] != tagASReq && m.Message[0] != tagTGSReq {
		return fail(http.StatusBadRequest, fmt.Errorf("message type %s is not relayed (AS-REQ and TGS-REQ only)", s.msgType))
	}
	if !oneElement(m.Message) {
		return fail(http.StatusBadRequest, errors.New("the Kerberos message is not one ASN.1 element"))
	}
	if m.Realm == "" {
		return fail(http.StatusBadRequest, errors.New("the request names no realm (target-domain)"))
	}
	kdcs, ok := h.realms[m.Realm]
	if !ok {
		return fail(http.StatusServiceUnavailable, fmt.Errorf("realm %s is not served here", m.Realm))
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-ctx.Done():
		return fail(http.StatusServiceUnavailable, errors.New("too many KDC exchanges in flight"))
	}
	reply, used, err := h.relay(ctx, kdcs, m.Message)
	if err != nil {
		return fail(http.StatusServiceUnavailable, err)
	}
	s.kdc, s.repBytes = used, len(reply)
	switch reply[0] {
	case tagASRep, tagTGSRep, tagKRBError:
	default:
		return fail(http.StatusBadGateway, fmt.Errorf("KDC %s answered with %s, not a Kerberos reply", used, messageType(reply)))
	}
	out, err := kdc.EncodeProxyMessage(kdc.ProxyMessage{Message: reply})
	if err != nil {
		return fail(http.StatusBadGateway, err)
	}
	w.Header().Set("Content-Type", kdc.KKDCPContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	s.status = http.StatusOK
	return s
}

// relay sends msg to each KDC in turn, over TCP, until one answers.
func (h *Handler) relay(ctx context.Context, kdcs []string, msg []byte) ([]byte, string, error) {
	var errs []error
	for _, addr := range kdcs {
		if ctx.Err() != nil {
			break
		}
		reply, err := h.exchange(ctx, addr, msg)
		if err == nil {
			return reply, addr, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return nil, "", fmt.Errorf("no KDC answered: %w", errors.Join(errs...))
}

func (h *Handler) exchange(ctx context.Context, addr string, msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.kdcTimeout)
	defer cancel()
	conn, release, err := kdc.DialBound(ctx, h.dialer.DialContext, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer release()
	return kdc.ExchangeTCP(conn, msg, maxReply)
}
