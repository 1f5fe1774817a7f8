package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// Defaults of the options.
const (
	DefaultKeyPrefix   = "krbhttp:replay:"
	DefaultTimeout     = time.Second
	DefaultClockMargin = time.Minute
)

// ErrEvictionPolicy is returned by [Store.Check] when the server may evict
// keys to make room: it could drop live entries, and a replay would pass.
var ErrEvictionPolicy = errors.New("redisstore: the Redis eviction policy may drop replay cache entries (want maxmemory-policy noeviction)")

// Store is an [acceptor.ReplayStore] on Redis. It is safe for concurrent
// use.
type Store struct {
	client   redis.UniversalClient
	prefix   string
	timeout  time.Duration
	margin   time.Duration
	failOpen bool
	logger   *slog.Logger

	down   atomic.Bool // a failure since the last success
	outage outage
}

// An Option configures a [Store].
type Option func(*Store) error

// WithKeyPrefix sets the prefix of the store's keys (default
// [DefaultKeyPrefix]). Services that share a Redis server may share the
// prefix too: an authenticator is refused everywhere once accepted
// anywhere, which is what a replay cache is for.
func WithKeyPrefix(p string) Option {
	return func(s *Store) error {
		if p == "" {
			return errors.New("redisstore: WithKeyPrefix: empty prefix")
		}
		s.prefix = p
		return nil
	}
}

// WithTimeout bounds each Redis command (default [DefaultTimeout]; the
// request's own deadline applies too), through the context, which the
// client honours only with ContextTimeoutEnabled ([NewClient] sets it;
// otherwise its own read and write timeouts apply). A command that times
// out fails like an unreachable server. d must be positive.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("redisstore: WithTimeout: %v is not positive", d)
		}
		s.timeout = d
		return nil
	}
}

// WithClockMargin keeps entries d longer than the acceptor that wrote them
// needs (default [DefaultClockMargin]): a replica whose clock runs behind
// the writer's by up to d still finds the entry for as long as it would
// accept the authenticator. d must not be negative.
func WithClockMargin(d time.Duration) Option {
	return func(s *Store) error {
		if d < 0 {
			return fmt.Errorf("redisstore: WithClockMargin: negative margin %v", d)
		}
		s.margin = d
		return nil
	}
}

// WithFailOpen accepts authentications that cannot be recorded (Redis
// unreachable, timing out or refusing the write) instead of refusing them.
// Replay protection is then off for as long as Redis is: the store logs
// that at error level when it starts, every ten seconds while it lasts
// (with the number of authentications accepted unchecked) and when it
// ends, so it needs [WithLogger]. The default fails closed.
func WithFailOpen(on bool) Option {
	return func(s *Store) error {
		s.failOpen = on
		return nil
	}
}

// WithLogger logs Redis outages (start, every ten seconds while they last,
// end) to l: at error level, and for the start and every report of a
// fail-open outage, with a message saying replay protection is off. Keys
// and tokens are never logged. The default (and a nil l) logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		s.logger = l
		return nil
	}
}

// New returns a store on client, which stays the caller's (to configure:
// TLS, credentials, Sentinel or Cluster; and to close). It does not
// contact the server: a server down at start only refuses authentications
// until it is up ([Store.Check] tests it).
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: New: nil client")
	}
	s := &Store{client: client, prefix: DefaultKeyPrefix, timeout: DefaultTimeout, margin: DefaultClockMargin}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	if s.failOpen && s.logger == nil {
		return nil, errors.New("redisstore: WithFailOpen needs WithLogger: turning replay protection off must not go unnoticed")
	}
	return s, nil
}

// NewClient returns a client for the Redis server at addr ("host:port")
// set up for the store: no retries (a retried SET NX that had been applied
// would read as a replay), one dial attempt per connection (an outage
// answers at once instead of after retries), one-second dial, read and
// write timeouts, request deadlines honoured (ContextTimeoutEnabled, which
// [WithTimeout] needs), and a pool sized for a busy acceptor. A client
// configured otherwise should keep the first and the last but one.
func NewClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  addr,
		MaxRetries:            -1,
		DialerRetries:         1,
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
		PoolSize:              64,
	})
}

// Remember implements [acceptor.ReplayStore] with one SET key 1 NX PX.
func (s *Store) Remember(ctx context.Context, key gss.ReplayKey, now, expires time.Time) error {
	ttl := expires.Sub(now) + s.margin
	// Rounded up to a millisecond, the unit of PX, and at least one.
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	set, err := s.client.SetNX(ctx, s.prefix+hex.EncodeToString(key[:]), 1, ttl).Result()
	if err != nil && errors.Is(err, context.Canceled) {
		// The request went away: not an outage, and no one to answer.
		return fmt.Errorf("%w: %v", acceptor.ErrReplayStoreUnavailable, err)
	}
	if err != nil {
		return s.failed(ctx, err)
	}
	if s.down.Load() {
		s.recovered(ctx)
	}
	if !set {
		return gss.ErrReplay
	}
	return nil
}

// failed classifies a failure and applies the fail-open choice.
func (s *Store) failed(ctx context.Context, err error) error {
	kind := acceptor.ErrReplayStoreUnavailable
	if strings.HasPrefix(err.Error(), "OOM ") {
		// Redis at maxmemory with noeviction: it has no room for the
		// entry, which is the replay cache being full.
		kind = acceptor.ErrReplayCacheFull
	}
	s.down.Store(true)
	s.outage.failure(ctx, s, err)
	if s.failOpen {
		return nil
	}
	return fmt.Errorf("%w: redis: %v", kind, err)
}

// Check reports whether the server answers and keeps entries until they
// expire: it pings it, and reads maxmemory-policy where CONFIG is allowed
// ([ErrEvictionPolicy] unless it is noeviction).
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: redis: %v", acceptor.ErrReplayStoreUnavailable, err)
	}
	policy, err := s.client.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return nil // managed servers often refuse CONFIG: nothing to learn
	}
	if p, ok := policy["maxmemory-policy"]; ok && p != "noeviction" {
		return fmt.Errorf("%w: it is %s", ErrEvictionPolicy, p)
	}
	return nil
}

// outage tracks one stretch of failures, for the log.
type outage struct {
	mu         sync.Mutex
	since      time.Time // zero: no outage
	lastReport time.Time
	failures   int // since since
}

// outageReportEvery is how often a lasting outage is logged again.
const outageReportEvery = 10 * time.Second

func (o *outage) failure(ctx context.Context, s *Store, err error) {
	now := time.Now()
	o.mu.Lock()
	o.failures++
	first := o.since.IsZero()
	if first {
		o.since = now
	}
	report := first || now.Sub(o.lastReport) >= outageReportEvery
	if report {
		o.lastReport = now
	}
	n, since := o.failures, o.since
	o.mu.Unlock()
	if !report || s.logger == nil {
		return
	}
	msg := "redisstore: Redis unavailable: refusing authentications (fail closed)"
	if s.failOpen {
		msg = "redisstore: Redis unavailable: REPLAY PROTECTION OFF, accepting authentications without a replay check (fail open)"
	}
	s.logger.LogAttrs(ctx, slog.LevelError, msg, slog.String("error", err.Error()),
		slog.Int("failures", n), slog.Duration("for", now.Sub(since).Round(time.Millisecond)))
}

func (s *Store) recovered(ctx context.Context) {
	o := &s.outage
	o.mu.Lock()
	if !s.down.Swap(false) {
		o.mu.Unlock()
		return
	}
	n, since := o.failures, o.since
	o.since, o.failures = time.Time{}, 0
	o.mu.Unlock()
	if s.logger == nil || since.IsZero() {
		return
	}
	msg := "redisstore: Redis available again after refusing authentications"
	if s.failOpen {
		msg = "redisstore: Redis available again: replay protection restored after accepting authentications without a replay check"
	}
	s.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.Int("failures", n), slog.Duration("for", time.Since(since).Round(time.Millisecond)))
}
