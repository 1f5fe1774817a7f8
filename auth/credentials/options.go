package credentials

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// DefaultRefreshFraction is the part of a ticket's lifetime after which
// sources replace it: a 10-hour ticket is replaced after 7.5 hours, a
// 30-second one after 22.5 seconds. Being a fraction, the point moves with
// the lifetime, so a short ticket is never replaced on every use however
// short it is, and a long one is replaced well before it ends. While
// replacing fails (KDC down), the ticket is still handed out until it
// actually expires, and the replacement is retried with a backoff (see
// [BackoffError]).
const DefaultRefreshFraction = 0.75

// An Option configures a source. The same options apply to every source;
// where one makes no sense (WithForwardable on a cache source, whose TGT
// is whatever kinit got) it is documented as ignored.
type Option func(*options) error

type options struct {
	forwardable *bool
	logger      *slog.Logger
	refreshAt   float64
	renewal     bool
	now         func() time.Time
	kdcTimeout  time.Duration
	transport   kdc.Transport
	writeBack   bool
	resolver    *net.Resolver
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

// WithRefreshFraction sets the part of a ticket's lifetime after which
// it is replaced (see DefaultRefreshFraction): f must be more than 0 and
// less than 1. A lower fraction leaves more of the old ticket to fall
// back on while the KDC is unreachable, at the price of more KDC
// requests.
func WithRefreshFraction(f float64) Option {
	return func(o *options) error {
		if !(f > 0 && f < 1) {
			return fmt.Errorf("refresh fraction %v is not between 0 and 1", f)
		}
		o.refreshAt = f
		return nil
	}
}

// WithRenewal says whether a cache source renews the cache's TGT, as
// kinit -R does, when the TGT has passed its refresh point (see
// WithRefreshFraction) and is renewable (kinit -r, or renew_lifetime in
// krb5.conf) until a time still ahead. The renewed TGT is written to the
// cache the way kinit -R writes it (the cache then holds it alone), unless
// WithWriteBack(false) keeps it in this process. The default is false: a
// credential cache belongs to its user, who may not expect a program to
// renew it. Password and keytab sources always renew their renewable TGTs
// until renew-till, then log in again; delegated sources never renew.
func WithRenewal(on bool) Option {
	return func(o *options) error { o.renewal = on; return nil }
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
