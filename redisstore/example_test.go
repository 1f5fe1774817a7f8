package redisstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/redisstore"
	"github.com/krbhttp/krbhttp/redisstore/redistest"
)

// The examples run against a throwaway redis-server (redistest), started
// once and stopped by TestMain; a service gives the address of its own.
var (
	exampleMu   sync.Mutex
	exampleSrv  *redistest.Server
	exampleDir  string
	exampleAddr = func() string {
		exampleMu.Lock()
		defer exampleMu.Unlock()
		if exampleSrv == nil {
			var err error
			if exampleDir, err = os.MkdirTemp("", "redisstore-example"); err != nil {
				panic(err)
			}
			if exampleSrv, err = redistest.New(exampleDir); err != nil {
				panic(err)
			}
		}
		return exampleSrv.Addr
	}
)

func stopExampleServer() {
	exampleMu.Lock()
	defer exampleMu.Unlock()
	if exampleSrv != nil {
		_ = exampleSrv.Stop()
		os.RemoveAll(exampleDir)
	}
}

// authenticator stands for what gss.Acceptor hands the store: the key of
// an authenticator and how long it stays acceptable.
func authenticator(name string) (gss.ReplayKey, time.Time, time.Time) {
	sum := sha256.Sum256([]byte(name))
	now := time.Now()
	return gss.ReplayKey(sum[:16]), now, now.Add(5 * time.Minute)
}

func ExampleNew() {
	client := redisstore.NewClient(exampleAddr()) // "redis.example.com:6379"
	defer client.Close()
	store, err := redisstore.New(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Given to every replica's acceptor:
	// acceptor.New(kt, acceptor.WithReplayStore(store)).
	key, now, expires := authenticator("ExampleNew")
	fmt.Println(store.Remember(context.Background(), key, now, expires))
	err = store.Remember(context.Background(), key, now, expires) // on another replica
	fmt.Println(errors.Is(err, gss.ErrReplay))
	// Output:
	// <nil>
	// true
}

func ExampleStore_Check() {
	client := redisstore.NewClient(exampleAddr())
	defer client.Close()
	store, _ := redisstore.New(client)
	fmt.Println(store.Check(context.Background()))
	// Output: <nil>
}

func ExampleWithKeyPrefix() {
	client := redisstore.NewClient(exampleAddr())
	defer client.Close()
	store, _ := redisstore.New(client, redisstore.WithKeyPrefix("payroll:replay:"))
	key, now, expires := authenticator("ExampleWithKeyPrefix")
	_ = store.Remember(context.Background(), key, now, expires)
	n, _ := client.Exists(context.Background(), fmt.Sprintf("payroll:replay:%x", key)).Result()
	fmt.Println(n)
	// Output: 1
}

func ExampleWithTimeout() {
	// A server that does not answer within 200 ms counts as unavailable:
	// the acceptor answers 503 rather than hang.
	client := redisstore.NewClient("127.0.0.1:1") // nothing listens there
	defer client.Close()
	store, _ := redisstore.New(client, redisstore.WithTimeout(200*time.Millisecond))
	key, now, expires := authenticator("ExampleWithTimeout")
	err := store.Remember(context.Background(), key, now, expires)
	fmt.Println(errors.Is(err, acceptor.ErrReplayStoreUnavailable))
	// Output: true
}

func ExampleWithClockMargin() {
	// Replicas whose clocks agree within 10 s: entries need to outlive
	// their authenticator by that much only.
	client := redisstore.NewClient(exampleAddr())
	defer client.Close()
	store, _ := redisstore.New(client, redisstore.WithClockMargin(10*time.Second))
	key, now, _ := authenticator("ExampleWithClockMargin")
	_ = store.Remember(context.Background(), key, now, now.Add(time.Minute))
	ttl, _ := client.PTTL(context.Background(), fmt.Sprintf("%s%x", redisstore.DefaultKeyPrefix, key)).Result()
	fmt.Println(ttl.Round(time.Second))
	// Output: 1m10s
}

func ExampleWithFailOpen() {
	// Availability over replay protection while Redis is down, and loud
	// about it. Only for services that can afford replays.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "error" || a.Key == "for" {
				return slog.Attr{} // for a stable output
			}
			return a
		},
	}))
	client := redisstore.NewClient("127.0.0.1:1") // down
	defer client.Close()
	store, _ := redisstore.New(client, redisstore.WithFailOpen(true), redisstore.WithLogger(logger))
	key, now, expires := authenticator("ExampleWithFailOpen")
	fmt.Println(store.Remember(context.Background(), key, now, expires))
	// Output:
	// level=ERROR msg="redisstore: Redis unavailable: REPLAY PROTECTION OFF, accepting authentications without a replay check (fail open)" failures=1
	// <nil>
}

func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "error" || a.Key == "for" {
				return slog.Attr{}
			}
			return a
		},
	}))
	client := redisstore.NewClient("127.0.0.1:1") // down
	defer client.Close()
	store, _ := redisstore.New(client, redisstore.WithLogger(logger))
	key, now, expires := authenticator("ExampleWithLogger")
	err := store.Remember(context.Background(), key, now, expires)
	fmt.Println(errors.Is(err, acceptor.ErrReplayStoreUnavailable))
	// Output:
	// level=ERROR msg="redisstore: Redis unavailable: refusing authentications (fail closed)" failures=1
	// true
}

func ExampleNewClient() {
	client := redisstore.NewClient(exampleAddr())
	defer client.Close()
	opts := client.Options()
	fmt.Println("retries:", opts.MaxRetries, "request deadlines:", opts.ContextTimeoutEnabled) // never retry a SET NX
	// Output: retries: 0 request deadlines: true
}
