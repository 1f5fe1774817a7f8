package acceptor_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// BenchmarkReplayStore measures one Remember of a new key, from parallel
// goroutines, for each store in this package (module redisstore has the
// Redis one).
func BenchmarkReplayStore(b *testing.B) {
	for name, open := range map[string]func(b *testing.B) acceptor.ReplayStore{
		"memory": func(*testing.B) acceptor.ReplayStore { return acceptor.NewMemoryReplayStore(0) },
		"file": func(b *testing.B) acceptor.ReplayStore {
			s, err := acceptor.OpenFileReplayStore(filepath.Join(b.TempDir(), "rcache"), 0)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	} {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			var next atomic.Int64
			now := time.Now()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					// Entries expire as they would at 1,000 a second, so
					// the store stays within its bound however long the
					// benchmark runs.
					i := next.Add(1)
					at := now.Add(time.Duration(i) * time.Millisecond)
					if err := s.Remember(bg, rkey(int(i)), at, at.Add(5*time.Minute)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkPerRequestAuthentication compares a GET over loopback HTTP/1.1
// (one keep-alive connection) that carries a fresh Negotiate token,
// verified by the middleware with each replay store, with the same GET
// unauthenticated: the cost of per-request authentication, as
// "unauthenticated" + the difference. The tokens are made before the
// timer starts: the client's cost is not measured here.
func BenchmarkPerRequestAuthentication(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	for _, c := range []struct {
		name string
		opts func(b *testing.B) []acceptor.Option // nil: no authentication
	}{
		{"unauthenticated", nil},
		{"memory", func(*testing.B) []acceptor.Option { return nil }},
		{"file", func(b *testing.B) []acceptor.Option {
			return []acceptor.Option{acceptor.WithReplayCacheDir(b.TempDir())}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := http.Handler(ok)
			if c.opts != nil {
				a, err := acceptor.New(service().Keytab(), c.opts(b)...)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { a.Close() })
				h = a.Wrap(ok)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			tokens := make([]string, b.N)
			if c.opts != nil {
				tkt := service().Ticket(b, "alice")
				for i := range tokens {
					_, tok, err := gss.NewInitiator(gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual})
					if err != nil {
						b.Fatal(err)
					}
					tokens[i] = "Negotiate " + base64.StdEncoding.EncodeToString(tok)
				}
			}
			client := srv.Client()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if tokens[i] != "" {
					req.Header.Set("Authorization", tokens[i])
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
