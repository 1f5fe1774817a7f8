package kdcproxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// An Option configures a [Handler].
type Option func(*Handler) error

// WithRealm serves realm, relaying to kdcs ("host", "host:port" or
// "[v6]:port"; port 88 by default) in order, over TCP. It may be given
// once per realm; it replaces what WithConfig said about that realm.
func WithRealm(realm string, kdcs ...string) Option {
	return func(h *Handler) error {
		if realm == "" {
			return errors.New("kdcproxy: WithRealm: empty realm")
		}
		addrs, err := tcpKDCs(kdcs)
		if err != nil {
			return fmt.Errorf("kdcproxy: WithRealm %s: %w", realm, err)
		}
		if len(addrs) == 0 {
			return fmt.Errorf("kdcproxy: WithRealm %s: no KDC", realm)
		}
		h.realms[realm] = addrs
		return nil
	}
}

// WithConfig serves every realm of cfg's [realms] section that lists KDCs
// by host (kdc = host[:port]); KDC proxy URLs are skipped, so that proxies
// never relay to each other.
func WithConfig(cfg *krb5conf.Config) Option {
	return func(h *Handler) error {
		if cfg == nil || cfg.Config == nil {
			return errors.New("kdcproxy: WithConfig: nil configuration")
		}
		for _, r := range cfg.Realms {
			var hosts []string
			for _, v := range r.KDC {
				if s, err := kdc.ParseKDC(v); err == nil && s.Protocol != kdc.ProtoKKDCP {
					hosts = append(hosts, s.Addr)
				}
			}
			if addrs, err := tcpKDCs(hosts); err == nil && len(addrs) > 0 {
				h.realms[r.Realm] = append(h.realms[r.Realm], addrs...)
			}
		}
		return nil
	}
}

func tcpKDCs(kdcs []string) ([]string, error) {
	var out []string
	for _, v := range kdcs {
		s, err := kdc.ParseKDC(v)
		if err != nil {
			return nil, err
		}
		if s.Protocol == kdc.ProtoKKDCP {
			return nil, fmt.Errorf("%s is a KDC proxy, not a KDC", v)
		}
		if _, _, err := net.SplitHostPort(s.Addr); err != nil {
			return nil, fmt.Errorf("%s: %w", v, err)
		}
		out = append(out, s.Addr)
	}
	if len(out) > maxKDCs {
		out = out[:maxKDCs]
	}
	return out, nil
}

// WithMaxRequestBytes bounds a request body (default
// DefaultMaxRequestBytes); larger ones get 413.
func WithMaxRequestBytes(n int64) Option {
	return func(h *Handler) error {
		if n < 64 {
			return fmt.Errorf("kdcproxy: WithMaxRequestBytes(%d): too small for any Kerberos request", n)
		}
		h.maxRequest = n
		return nil
	}
}

// WithKDCTimeout bounds one exchange with one KDC (default
// DefaultKDCTimeout); the next KDC is tried after it.
func WithKDCTimeout(d time.Duration) Option {
	return func(h *Handler) error {
		if d <= 0 {
			return errors.New("kdcproxy: WithKDCTimeout: must be positive")
		}
		h.kdcTimeout = d
		return nil
	}
}

// WithTimeout bounds a whole request (default DefaultTimeout), whatever
// the number of KDCs.
func WithTimeout(d time.Duration) Option {
	return func(h *Handler) error {
		if d <= 0 {
			return errors.New("kdcproxy: WithTimeout: must be positive")
		}
		h.timeout = d
		return nil
	}
}

// WithMaxConcurrent bounds the KDC exchanges in flight (default
// DefaultMaxConcurrent); further requests wait, within their timeout.
func WithMaxConcurrent(n int) Option {
	return func(h *Handler) error {
		if n <= 0 {
			return errors.New("kdcproxy: WithMaxConcurrent: must be positive")
		}
		h.maxConcurrent = n
		return nil
	}
}

// WithAllowPlainHTTP accepts requests that did not arrive over TLS, for a
// handler behind a reverse proxy that ends TLS. Without it such requests
// get 403: MS-KKDCP messages carry no protection of their own.
func WithAllowPlainHTTP() Option {
	return func(h *Handler) error { h.allowPlain = true; return nil }
}

// WithLogger sets the logger for the per-request lines (Info; Warn for
// 5xx); nil discards.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) error { h.log = l; return nil }
}

// WithDialer sets the dialer for KDC connections (default: a zero
// net.Dialer).
func WithDialer(d *net.Dialer) Option {
	return func(h *Handler) error {
		if d == nil {
			return errors.New("kdcproxy: WithDialer: nil dialer")
		}
		h.dialer = d
		return nil
	}
}
