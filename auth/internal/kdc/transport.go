package kdc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
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

// Defaults of [NetTransport].
const (
	DefaultAttemptTimeout = 3 * time.Second
	// DefaultUDPPreferenceLimit is MIT's: larger requests go over TCP.
	DefaultUDPPreferenceLimit = 1465
	// maxTCPReply bounds what a KDC may make us allocate over TCP; real
	// replies (with a PAC) are a few kilobytes.
	maxTCPReply = 1 << 20
	maxUDPReply = 65535
	// maxKDCs bounds the attempts made for one request.
	maxKDCs = 10
)

// NetTransport sends requests to the KDCs listed for the realm in
// krb5.conf ([realms] R = { kdc = host[:port] }), in order, or found by DNS
// SRV records when none is listed and dns_lookup_kdc is on. Each KDC is
// tried over UDP first when the request fits udp_preference_limit, then over
// TCP; a KRB_ERR_RESPONSE_TOO_BIG answer moves to TCP at once. Every attempt
// is bounded by AttemptTimeout and by the context.
type NetTransport struct {
	Config *config.Config
	// AttemptTimeout bounds one attempt (dial, send, receive); zero means
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Dialer is used for both protocols; nil means a zero net.Dialer.
	Dialer *net.Dialer
	// Resolver looks up SRV records; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Logger gets one debug line per attempt; nil discards.
	Logger *slog.Logger
}

// Exchange implements Transport.
func (t *NetTransport) Exchange(ctx context.Context, realm string, req []byte) ([]byte, error) {
	kdcs, err := t.kdcs(ctx, realm)
	if err != nil {
		return nil, &UnreachableError{Realm: realm, Errs: []error{err}}
	}
	if len(kdcs) == 0 {
		return nil, &UnreachableError{Realm: realm}
	}
	limit := DefaultUDPPreferenceLimit
	if t.Config != nil && t.Config.LibDefaults.UDPPreferenceLimit > 0 {
		limit = t.Config.LibDefaults.UDPPreferenceLimit
	}
	useUDP := len(req) <= limit && limit > 1
	var errs []error
	for _, addr := range kdcs {
		if useUDP {
			reply, err := t.attempt(ctx, "udp", addr, req)
			if err == nil && !tooBig(reply) {
				return reply, nil
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		if ctx.Err() != nil {
			break
		}
		reply, err := t.attempt(ctx, "tcp", addr, req)
		if err == nil {
			return reply, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if err := ctx.Err(); err != nil && !containsErr(errs, err) {
		errs = append(errs, err)
	}
	return nil, &UnreachableError{Realm: realm, Errs: errs}
}

func containsErr(errs []error, target error) bool {
	for _, e := range errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// tooBig reports whether reply is a KRB-ERROR asking to retry over TCP.
func tooBig(reply []byte) bool {
	if len(reply) == 0 || reply[0] != tagKRBError {
		return false
	}
	var e messages.KRBError
	if err := safeUnmarshal(func() error { return e.Unmarshal(reply) }); err != nil {
		return false
	}
	return e.ErrorCode == errorcode.KRB_ERR_RESPONSE_TOO_BIG
}

func (t *NetTransport) kdcs(ctx context.Context, realm string) ([]string, error) {
	var listed []string
	if t.Config != nil {
		for _, r := range t.Config.Realms {
			if r.Realm == realm {
				listed = append(listed, r.KDC...)
			}
		}
	}
	var out []string
	for _, k := range listed {
		if addr := normalizeAddr(k); addr != "" {
			out = append(out, addr)
		}
	}
	if len(out) == 0 && t.Config != nil && t.Config.LibDefaults.DNSLookupKDC {
		r := t.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		for _, proto := range []string{"udp", "tcp"} {
			_, srvs, err := r.LookupSRV(ctx, "kerberos", proto, realm)
			if err != nil {
				continue
			}
			for _, s := range srvs {
				addr := net.JoinHostPort(strings.TrimSuffix(s.Target, "."), strconv.Itoa(int(s.Port)))
				if !contains(out, addr) {
					out = append(out, addr)
				}
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no KDC known for realm %s (none in krb5.conf, no DNS SRV record)", realm)
		}
	}
	if len(out) > maxKDCs {
		out = out[:maxKDCs]
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// normalizeAddr turns a krb5.conf kdc value into host:port. gokrb5 already
// appends ":88" when no port is given, but cannot tell an IPv6 literal's
// colons from a port, and keeps a trailing "*" (final marker).
func normalizeAddr(v string) string {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "*"))
	if v == "" {
		return ""
	}
	if strings.HasPrefix(v, "[") {
		if _, _, err := net.SplitHostPort(v); err == nil {
			return v
		}
		return net.JoinHostPort(strings.Trim(strings.TrimSuffix(v, ":88"), "[]"), "88")
	}
	if strings.Count(v, ":") > 1 {
		// An IPv6 literal without brackets; gokrb5 may have added ":88".
		host := strings.TrimSuffix(v, ":88")
		if net.ParseIP(host) != nil {
			return net.JoinHostPort(host, "88")
		}
		return net.JoinHostPort(v, "88")
	}
	if _, _, err := net.SplitHostPort(v); err == nil {
		return v
	}
	return net.JoinHostPort(v, "88")
}

func (t *NetTransport) attempt(ctx context.Context, network, addr string, req []byte) ([]byte, error) {
	timeout := t.AttemptTimeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := t.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	start := time.Now()
	reply, err := t.exchange(actx, d, network, addr, req)
	if err != nil {
		// Say which clock ran out rather than "i/o timeout".
		var opErr *net.OpError
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%s %s: %w", network, addr, context.Cause(ctx))
		case pastDeadline(ctx):
			// The connection deadline can fire a moment before the
			// context's own timer does.
			err = fmt.Errorf("%s %s: %w", network, addr, context.DeadlineExceeded)
		case actx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
			err = fmt.Errorf("%s %s: no reply within %v", network, addr, timeout)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("%s %s: connection closed without a reply", network, addr)
		case !errors.As(err, &opErr):
			err = fmt.Errorf("%s %s: %w", network, addr, err)
		}
	}
	if t.Logger != nil {
		t.Logger.LogAttrs(ctx, slog.LevelDebug, "kdc attempt",
			slog.String("network", network), slog.String("kdc", addr),
			slog.Int("request_bytes", len(req)), slog.Int("reply_bytes", len(reply)),
			slog.Duration("elapsed", time.Since(start)), slog.Any("error", err))
	}
	return reply, err
}

func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func (t *NetTransport) exchange(ctx context.Context, d *net.Dialer, network, addr string, req []byte) ([]byte, error) {
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Cancellation without a deadline: wake the blocked read.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	var reply []byte
	if network == "udp" {
		reply, err = exchangeUDP(conn, req)
	} else {
		reply, err = exchangeTCP(conn, req)
	}
	return reply, err
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

func exchangeTCP(conn net.Conn, req []byte) ([]byte, error) {
	msg := make([]byte, 4+len(req))
	binary.BigEndian.PutUint32(msg, uint32(len(req)))
	copy(msg[4:], req)
	if _, err := conn.Write(msg); err != nil {
		return nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxTCPReply {
		// The high bit is reserved for extensions (RFC 5021); no KDC we
		// talk to uses it.
		return nil, fmt.Errorf("reply length %d out of range", n)
	}
	reply := make([]byte, n)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, err
	}
	return reply, nil
}
