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
	replayCacheSize int    // 0: sized from maxSkew
	replayDir       string // with replayDirSet: WithReplayCacheDir
	replayDirSet    bool
	replayStore     ReplayStore // WithReplayStore
	maxHeaderBytes  int
	maxSkew         time.Duration
	krb5conf        *krb5conf.Config
	logger          *slog.Logger
	now             func() time.Time
}

func defaultConfig() config {
	return config{
		maxHeaderBytes: DefaultMaxHeaderBytes,
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

// WithReplayCacheSize bounds the replay cache (in memory, or in the file of
// [WithReplayCacheDir]) to n entries. An entry is kept until its
// authenticator could no longer be accepted (at most twice the clock skew
// of [WithMaxSkew]) and never dropped to make room: once n entries are
// live, new authentications are refused with 503 and an error in the log
// ([ErrReplayCacheFull]) until some expire. Size it for the peak rate of
// authentications times twice the skew. The default (and 0) is
// [DefaultReplayRate] a second over twice the skew plus ten seconds:
// [DefaultReplayCacheSize] with the default skew. n must not be negative.
func WithReplayCacheSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("acceptor: WithReplayCacheSize: negative size %d", n)
		}
		c.replayCacheSize = n
		return nil
	}
}

// WithReplayCacheDir keeps the replay cache in a file in dir, so that a
// restart does not forget which tokens were used, as MIT's acceptor does
// with KRB5RCACHEDIR: the file is krbhttp_EUID.rcache, and an empty dir
// means KRB5RCACHEDIR, else /var/tmp (the system's temporary directory on
// Windows). The directory is created (mode 0700) if missing. New opens the
// file ([OpenFileReplayStore] says what survives which crash) and
// [Authenticator.Close] closes it; one process at a time may use it. The
// default keeps the cache in memory.
func WithReplayCacheDir(dir string) Option {
	return func(c *config) error {
		c.replayDir, c.replayDirSet = dir, true
		return nil
	}
}

// WithReplayStore uses s to detect replays, for instance a store on Redis
// (module github.com/krbhttp/krbhttp/redisstore) that replicas behind a
// load balancer share, so that a token accepted by one is refused by all.
// A store failure refuses the authentication with 503 (fail closed). s
// stays the caller's to close. It excludes [WithReplayCacheDir] and
// [WithReplayCacheSize].
func WithReplayStore(s ReplayStore) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("acceptor: WithReplayStore: nil store")
		}
		c.replayStore = s
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
// Replay cache entries last as long as the skew lets an authenticator
// pass, and the default bound of the cache grows with the skew. d must
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

// WithLogger logs refused requests at info level, delegation problems at
// warn level and replay store failures (every authentication refused) at
// error level to l. Tokens and keys are never logged. The default (and
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
