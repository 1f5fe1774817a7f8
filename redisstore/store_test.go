package redisstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/redisstore"
	"github.com/krbhttp/krbhttp/redisstore/redistest"
)

var bg = context.Background()

func TestMain(m *testing.M) {
	code := m.Run()
	stopExampleServer()
	os.Exit(code)
}

func rkey(i int) gss.ReplayKey {
	sum := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
	return gss.ReplayKey(sum[:16])
}

// syncBuffer is a log destination for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client returns a client of srv, closed when the test ends.
func client(t testing.TB, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redisstore.NewClient(srv.Addr)
	t.Cleanup(func() { c.Close() })
	return c
}

func newStore(t testing.TB, c redis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRememberSetsNXWithExpiry: a new key is stored with the time the
// authenticator stays acceptable plus the clock margin as its TTL; the
// same key again is a replay.
func TestRememberSetsNXWithExpiry(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := client(t, srv)
	s := newStore(t, c, redisstore.WithKeyPrefix("test:"), redisstore.WithClockMargin(30*time.Second))
	now := time.Now()
	if err := s.Remember(bg, rkey(1), now, now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(bg, rkey(1), now, now.Add(5*time.Minute)); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("same key again: %v, want ErrReplay", err)
	}
	k := rkey(1)
	keys, err := c.Keys(bg, "test:*").Result()
	if err != nil || len(keys) != 1 || len(keys[0]) != len("test:")+32 {
		t.Fatalf("keys %q, %v: want one, test: and the key in hex", keys, err)
	}
	ttl, err := c.PTTL(bg, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := 5*time.Minute + 30*time.Second; ttl > want || ttl < want-5*time.Second {
		t.Fatalf("TTL %v, want about %v", ttl, want)
	}
	if keys[0] != "test:"+hex.EncodeToString(k[:]) {
		t.Fatalf("key %q, want test:%x", keys[0], k)
	}
}

// silentListener accepts connections and never answers, until the test
// ends.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestEntryExpires: Redis drops the key once its TTL has passed, and the
// authenticator could then be remembered again.
func TestEntryExpires(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s := newStore(t, client(t, srv), redisstore.WithClockMargin(0))
	now := time.Now()
	if err := s.Remember(bg, rkey(1), now, now.Add(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Remember(bg, rkey(1), time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("after its TTL: %v", err)
	}
}

// TestReplicasShareOneCache: stores of two replicas (their own clients)
// on one server: each key is won exactly once across both, under
// concurrency.
func TestReplicasShareOneCache(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	replicas := []*redisstore.Store{newStore(t, client(t, srv)), newStore(t, client(t, srv))}
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	now := time.Now()
	for g := range 8 {
		wg.Go(func() {
			s := replicas[g%2]
			for i := range 200 {
				err := s.Remember(bg, rkey(i), now, now.Add(time.Minute))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, gss.ErrReplay):
					replays.Add(1)
				default:
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 200 || replays.Load() != 7*200 {
		t.Fatalf("%d wins, %d replays; want 200 and 1400", wins.Load(), replays.Load())
	}
}

// TestRedisDownFailsClosed: with the server stopped, Remember fails with
// ErrReplayStoreUnavailable and the outage is logged at error level; once
// it is back, authentications are recorded again, the recovery is logged,
// and a key recorded before the outage is still there (append-only
// persistence).
func TestRedisDownFailsClosed(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var logs syncBuffer
	s := newStore(t, client(t, srv), redisstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	now := time.Now()
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		err := s.Remember(bg, rkey(2+i), now, now.Add(time.Hour))
		if !errors.Is(err, acceptor.ErrReplayStoreUnavailable) || errors.Is(err, gss.ErrReplay) {
			t.Fatalf("Redis down: %v, want ErrReplayStoreUnavailable", err)
		}
	}
	if err := s.Check(bg); !errors.Is(err, acceptor.ErrReplayStoreUnavailable) {
		t.Fatalf("Check with Redis down: %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(bg, rkey(2), now, now.Add(time.Hour)); err != nil {
		t.Fatalf("Redis back: %v", err)
	}
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Hour)); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("key from before the restart: %v, want ErrReplay", err)
	}
	out := logs.String()
	if strings.Count(out, "level=ERROR") != 1 || !strings.Contains(out, "fail closed") || !strings.Contains(out, "available again") {
		t.Fatalf("log:\n%s\nwant one error line for the outage (later failures within 10 s are counted, not logged) and its end", out)
	}
}

// TestRedisDownFailOpen: with WithFailOpen, an outage accepts without a
// replay check and says so loudly; it needs a logger.
func TestRedisDownFailOpen(t *testing.T) {
	t.Parallel()
	if _, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), redisstore.WithFailOpen(true)); err == nil {
		t.Fatal("WithFailOpen without a logger accepted")
	}
	srv := redistest.Start(t)
	var logs syncBuffer
	s := newStore(t, client(t, srv), redisstore.WithFailOpen(true), redisstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	now := time.Now()
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Hour)); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("replay with Redis up: %v, want ErrReplay (fail open changes only failures)", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(bg, rkey(2), now, now.Add(time.Hour)); err != nil {
		t.Fatalf("Redis down, fail open: %v, want nil", err)
	}
	if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "REPLAY PROTECTION OFF") {
		t.Fatalf("log:\n%s\nwant an error line saying replay protection is off", out)
	}
}

// TestRedisFull: a server at its maxmemory (noeviction) refuses the write:
// ErrReplayCacheFull, failing closed.
func TestRedisFull(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := client(t, srv)
	s := newStore(t, c)
	if err := c.ConfigSet(bg, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err := s.Remember(bg, rkey(1), now, now.Add(time.Hour))
	if !errors.Is(err, acceptor.ErrReplayCacheFull) {
		t.Fatalf("Redis at maxmemory: %v, want ErrReplayCacheFull", err)
	}
}

// TestCheck: Check passes with noeviction, fails with a policy that may
// drop entries.
func TestCheck(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := client(t, srv)
	s := newStore(t, c)
	if err := s.Check(bg); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(bg, "maxmemory-policy", "volatile-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(bg); !errors.Is(err, redisstore.ErrEvictionPolicy) {
		t.Fatalf("volatile-lru: %v, want ErrEvictionPolicy", err)
	}
}

// TestTimeout: a server that accepts connections and never answers fails
// within the timeout, as unavailable.
func TestTimeout(t *testing.T) {
	t.Parallel()
	l := silentListener(t)
	c := redisstore.NewClient(l)
	defer c.Close()
	s := newStore(t, c, redisstore.WithTimeout(100*time.Millisecond))
	start := time.Now()
	err := s.Remember(bg, rkey(1), start, start.Add(time.Minute))
	if !errors.Is(err, acceptor.ErrReplayStoreUnavailable) {
		t.Fatalf("silent server: %v, want ErrReplayStoreUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v with a 100 ms timeout", d)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := redisstore.New(nil); err == nil {
		t.Error("nil client accepted")
	}
	for name, opt := range map[string]redisstore.Option{
		"empty prefix":    redisstore.WithKeyPrefix(""),
		"zero timeout":    redisstore.WithTimeout(0),
		"negative margin": redisstore.WithClockMargin(-time.Second),
	} {
		if _, err := redisstore.New(c, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCancelledRequestIsNoOutage: a request that went away refuses its
// authentication but is not logged as a Redis outage.
func TestCancelledRequestIsNoOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var logs syncBuffer
	s := newStore(t, client(t, srv), redisstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx, cancel := context.WithCancel(bg)
	cancel()
	now := time.Now()
	if err := s.Remember(ctx, rkey(1), now, now.Add(time.Minute)); !errors.Is(err, acceptor.ErrReplayStoreUnavailable) {
		t.Fatalf("cancelled request: %v, want ErrReplayStoreUnavailable", err)
	}
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Minute)); err != nil {
		t.Fatalf("the same authenticator after a cancelled attempt: %v", err)
	}
	if logs.String() != "" {
		t.Fatalf("logged:\n%s", logs.String())
	}
}
