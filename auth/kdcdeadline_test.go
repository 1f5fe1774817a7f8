package auth_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// silentKDC accepts UDP datagrams and TCP connections on one loopback port
// and never answers: a KDC that is down or far too slow.
func silentKDC(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; _ = c.Close() }()
		}
	}()
	t.Cleanup(func() { close(done); _ = l.Close(); _ = pc.Close() })
	return l.Addr().String()
}

// TestKDCDeadline: a caller's deadline that expires while the KDC is slow
// is what RoundTrip returns (errors.Is(err, context.DeadlineExceeded)),
// not the server's 401 with "KDC unreachable" behind it, on the challenge
// path and on the preemptive one.
func TestKDCDeadline(t *testing.T) {
	t.Parallel()
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = EXAMPLE.TEST\n[realms]\n EXAMPLE.TEST = {\n  kdc = " + silentKDC(t) + "\n }\n")
	if err != nil {
		t.Fatal(err)
	}
	src, err := credentials.NewPasswordSource(cfg, "alice", "pw", credentials.WithKDCTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits++
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	for name, opts := range map[string][]auth.Option{
		"challenge":  nil,
		"preemptive": {auth.WithPreemptive(auth.PreemptiveAlways)},
	} {
		c, err := auth.NewClient(append(opts, auth.WithCredentials(src), auth.WithConfig(cfg))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		start := time.Now()
		resp, err := c.Do(req)
		cancel()
		if resp != nil {
			resp.Body.Close()
			t.Fatalf("%s: got %s, want the context's error", name, resp.Status)
		}
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, credentials.ErrKDCUnreachable) {
			t.Fatalf("%s: err = %v", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v with a 300ms deadline", name, d)
		}
	}
}
