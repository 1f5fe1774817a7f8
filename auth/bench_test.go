package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// BenchmarkNewToken measures building an SPNEGO AP-REQ token from a
// ticket already held (what every authenticated request costs the client).
func BenchmarkNewToken(b *testing.B) {
	svc := krbtest.NewService(b, "HTTP/bench.example.test", realm)
	tkt := svc.Ticket(b, "alice")
	for _, f := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := gss.NewInitiator(gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagSequence, Format: f}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTrip measures a full authenticated GET on loopback against
// our acceptor, with mutual authentication verified: answering a 401 every
// time, sending the token up front, and IIS-style connection-bound
// authentication (one handshake, then plain requests).
func BenchmarkRoundTrip(b *testing.B) {
	cases := []struct {
		name string
		acc  []acceptor.Option
		opts []auth.Option
	}{
		{"challenge-every-request", nil, nil},
		{"preemptive", nil, []auth.Option{auth.WithPreemptive(auth.PreemptiveAlways)}},
		{"connection-bound", []acceptor.Option{acceptor.WithConnectionBound(true)}, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			l := newLab(b, nil, c.acc...)
			client := l.client(b, c.opts...)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(l.srv.URL)
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

// BenchmarkTokenCost measures what a token costs the client at the
// transport level: the same GET through the same Transport, against a
// server that ignores Authorization, with a token built for every request
// (PreemptiveAlways, mutual authentication off, so nothing but the token
// differs) and without one. The ticket comes from a FILE: credential
// cache, as it does for a user after kinit. "token" minus "none" is the
// token's cost.
func BenchmarkTokenCost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	b.Cleanup(srv.Close)
	svc := krbtest.NewService(b, "HTTP/127.0.0.1", realm)
	path := filepath.Join(b.TempDir(), "krb5cc")
	if err := credentials.WriteCCache(path, svc.Ticket(b, "alice")); err != nil {
		b.Fatal(err)
	}
	conf := testConfig(b)
	for _, c := range []struct {
		name string
		mode auth.PreemptiveMode
	}{
		{"none", auth.PreemptiveNever},
		{"token", auth.PreemptiveAlways},
	} {
		b.Run(c.name, func(b *testing.B) {
			src, err := credentials.NewCCacheSource(conf, "FILE:"+path, "alice")
			if err != nil {
				b.Fatal(err)
			}
			tr, err := auth.NewTransport(srv.Client().Transport, auth.WithCredentials(src), auth.WithConfig(conf),
				auth.WithPreemptive(c.mode), auth.WithMutualAuthentication(auth.MutualDisabled))
			if err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Transport: tr}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
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
