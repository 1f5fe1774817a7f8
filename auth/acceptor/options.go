package acceptor

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// An Option configures an [Authenticator].
type Option func(*config) error

type config struct {
	service         string
	realms          []string
	connectionBound bool
	channelBinding  ChannelBindingPolicy
	certificate     *x509.Certificate
	replayCacheSize int
	maxHeaderBytes  int
	maxSkew         time.Duration
	krb5conf        *krb5conf.Config
	logger          *slog.Logger
	now             func() time.Time
}

func defaultConfig() config {
	return config{
		replayCacheSize: DefaultReplayCacheSize,
		maxHeaderBytes:  DefaultMaxHeaderBytes,
	}
}

// WithServicePrincipal restricts the accepted service principal to the
// full name spn ("HTTP/host" or "HTTP/host@REALM"), which the keytab must
// hold a key for. The default accepts any principal the keytab has keys
// for. (The client side's auth.WithService takes only the service class,
// "HTTP"; this option names the whole principal, hence its name.)
func WithServicePrincipal(spn string) Option {
	return func(c *config) error {
		if spn == "" {
			return errors.New("acceptor: WithServicePrincipal: empty service principal")
		}
		if !strings.Contains(spn, "/") {
			return fmt.Errorf("acceptor: WithServicePrincipal: %q is not a service principal (want class/host, e.g. HTTP/%s)", spn, "web.example.com")
		}
		c.service = spn
		return nil
	}
}

// WithRealms lists the accepted client realms; the default is the realms
// of the keytab's keys. A client of another realm is refused even with a
// ticket that decrypts (a cross-realm trust the service does not mean to
// honour). It needs at least one realm, and no empty one.
func WithRealms(realms ...string) Option {
	return func(c *config) error {
		if len(realms) == 0 || slices.Contains(realms, "") {
			return fmt.Errorf("acceptor: WithRealms: invalid realm list %q", realms)
		}
		c.realms = slices.Clone(realms)
		return nil
	}
}

// WithConnectionBound authenticates a keep-alive connection once, as IIS
// does: later requests on it pass without an Authorization header and the
// response says "Persistent-Auth: true". Off by default. It needs
// [Authenticator.ConnContext] on the http.Server; without it every request
// is authenticated. Like IIS's, it trusts that one connection carries one
// client's requests: do not use it behind a proxy that multiplexes users
// onto shared connections.
func WithConnectionBound(on bool) Option {
	return func(c *config) error {
		c.connectionBound = on
		return nil
	}
}

// WithChannelBinding sets the channel-binding policy; the default is
// [BindingNone]. The expected tls-server-end-point bindings are computed
// from cert, the server's TLS leaf certificate, which any policy but
// BindingNone needs; under BindingNone cert is ignored and may be nil.
func WithChannelBinding(policy ChannelBindingPolicy, cert *x509.Certificate) Option {
	return func(c *config) error {
		switch {
		case policy < BindingNone || policy > BindingStrict:
			return fmt.Errorf("acceptor: WithChannelBinding: unknown channel-binding policy %d", int(policy))
		case policy != BindingNone && cert == nil:
			return fmt.Errorf("acceptor: WithChannelBinding: policy %v needs the server certificate", policy)
		}
		c.channelBinding = policy
		c.certificate = cert
		if policy == BindingNone {
			c.certificate = nil
		}
		return nil
	}
}

// WithReplayCacheSize bounds the replay cache to n entries (default
// [DefaultReplayCacheSize]; 0 restores it), each kept for twice the
// tolerated clock skew (see [WithMaxSkew]), at least 10 minutes. The cache
// belongs to the Authenticator and has no goroutine. n must not be
// negative.
func WithReplayCacheSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("acceptor: WithReplayCacheSize: negative size %d", n)
		}
		c.replayCacheSize = n
		if n == 0 {
			c.replayCacheSize = DefaultReplayCacheSize
		}
		return nil
	}
}

// WithMaxHeaderBytes bounds the Authorization header to n bytes; longer
// ones get 400, as IIS answers (default [DefaultMaxHeaderBytes]; 0
// restores it). n must not be negative.
func WithMaxHeaderBytes(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("acceptor: WithMaxHeaderBytes: negative size %d", n)
		}
		c.maxHeaderBytes = n
		if n == 0 {
			c.maxHeaderBytes = DefaultMaxHeaderBytes
		}
		return nil
	}
}

// WithMaxSkew sets the clock skew tolerated on authenticators and ticket
// lifetimes; the default (and 0) is 5 minutes, as MIT and Windows allow.
// A skew above 5 minutes widens the replay cache's window with it. d must
// not be negative.
func WithMaxSkew(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("acceptor: WithMaxSkew: negative skew %v", d)
		}
		c.maxSkew = d
		return nil
	}
}

// WithConfig sets the Kerberos configuration (krb5.conf) delegated
// credentials use to reach the KDC (see [Identity.Credentials]), as
// auth.WithConfig does for a client. Without it, KRB5_CONFIG or
// /etc/krb5.conf is loaded the first time a client delegates.
func WithConfig(conf *krb5conf.Config) Option {
	return func(c *config) error {
		if conf == nil {
			return errors.New("acceptor: WithConfig: nil config")
		}
		c.krb5conf = conf
		return nil
	}
}

// WithLogger logs refused requests at info level and delegation problems
// at warn level to l. Tokens and keys are never logged. The default (and
// a nil l) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithClock replaces time.Now for ticket lifetimes, authenticator times,
// the replay cache and delegated credentials (tests).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("acceptor: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}
