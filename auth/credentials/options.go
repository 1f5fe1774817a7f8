package credentials

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// DefaultRefreshBefore is the least time before its end at which a ticket
// is replaced. Sources replace a ticket when less than
// max(refresh-before, 10% of the ticket's lifetime) is left, so that a
// ticket handed out always has time to travel to the server and be
// accepted despite some clock skew, and long tickets are renewed well
// ahead. A ticket that cannot be replaced (KDC down, cache not refreshed)
// is still handed out until it actually expires.
const DefaultRefreshBefore = time.Minute

// An Option configures a source. The same options apply to every source;
// where one makes no sense (WithForwardable on a cache source, whose TGT
// is whatever kinit got) it is documented as ignored.
type Option func(*options) error

type options struct {
	forwardable   *bool
	logger        *slog.Logger
	refreshBefore time.Duration
	now           func() time.Time
	kdcTimeout    time.Duration
	transport     kdc.Transport
	writeBack     bool
	resolver      *net.Resolver
}

// WithForwardable asks for a forwardable TGT on login (password and keytab
// sources); delegation needs one. The default is krb5.conf's forwardable
// setting, as with kinit. Ignored by cache sources.
func WithForwardable(on bool) Option {
	return func(o *options) error { o.forwardable = &on; return nil }
}

// WithLogger sends debug lines (logins, TGS requests, cache reloads) to l.
// Keys, tickets and passwords are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithRefreshBefore sets the least time before expiry at which tickets are
// replaced (see DefaultRefreshBefore).
func WithRefreshBefore(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("refresh-before duration must not be negative")
		}
		o.refreshBefore = d
		return nil
	}
}

// WithClock replaces time.Now for expiry decisions (tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("nil clock")
		}
		o.now = now
		return nil
	}
}

// WithKDCTimeout bounds each attempt to reach one KDC (default 3s); the
// context passed to each call bounds the whole exchange.
func WithKDCTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("KDC timeout must be positive")
		}
		o.kdcTimeout = d
		return nil
	}
}

// WithWriteBack says whether service tickets a cache source gets from the
// KDC are stored in the credential cache its TGT came from, as MIT's
// library stores them: klist then lists them, and the next program using
// the cache (another run of the same one, curl --negotiate, kvno) finds
// them there instead of asking the KDC. The default is true, as in MIT.
// The write is an append under the cache's lock (FILE:, DIR:), a STORE
// (KCM:) or a key (KEYRING:); a write that fails is logged, never
// returned. Ignored by password, keytab and delegated sources, which have
// no cache.
func WithWriteBack(on bool) Option {
	return func(o *options) error { o.writeBack = on; return nil }
}

// WithResolver sets the DNS resolver for finding KDCs and realms (URI,
// SRV and TXT records, with dns_lookup_kdc and dns_lookup_realm): its Dial
// reaches the name servers, as for net.Resolver itself. The default uses
// the system's name servers.
func WithResolver(r *net.Resolver) Option {
	return func(o *options) error { o.resolver = r; return nil }
}

// withTransport replaces the network (tests use an in-process fake KDC).
func withTransport(t kdc.Transport) Option {
	return func(o *options) error { o.transport = t; return nil }
}
