package auth_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
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
