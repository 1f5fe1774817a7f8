package auth_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// fakeDNS answers on a loopback UDP port: alias.example.test is a CNAME of
// real.example.test, which is 127.0.0.7, whose PTR is ptr.example.test.
func fakeDNS(t *testing.T) *net.Resolver {
	r, _ := countingDNS(t)
	return r
}

// countingDNS is fakeDNS that also counts the queries it answered.
func countingDNS(t *testing.T) (*net.Resolver, *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	var queries atomic.Int32
	go serveDNS(pc, &queries)
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}, &queries
}

func serveDNS(pc net.PacketConn, queries *atomic.Int32) {
	buf := make([]byte, 1500)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		queries.Add(1)
		reply, err := dnsAnswer(h, q)
		if err == nil {
			_, _ = pc.WriteTo(reply, addr)
		}
	}
}

func dnsAnswer(h dnsmessage.Header, q dnsmessage.Question) ([]byte, error) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	name := strings.ToLower(q.Name.String())
	rh := func(n string, typ dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(n), Type: typ, Class: dnsmessage.ClassINET, TTL: 60}
	}
	real := "real.example.test."
	switch {
	case name == "alias.example.test." && (q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeCNAME):
		if err := b.CNAMEResource(rh(name, dnsmessage.TypeCNAME), dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(real)}); err != nil {
			return nil, err
		}
		if q.Type == dnsmessage.TypeA {
			if err := b.AResource(rh(real, dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{127, 0, 0, 7}}); err != nil {
				return nil, err
			}
		}
	case name == real && q.Type == dnsmessage.TypeA:
		if err := b.AResource(rh(real, dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{127, 0, 0, 7}}); err != nil {
			return nil, err
		}
	case name == "7.0.0.127.in-addr.arpa." && q.Type == dnsmessage.TypePTR:
		if err := b.PTRResource(rh(name, dnsmessage.TypePTR), dnsmessage.PTRResource{PTR: dnsmessage.MustNewName("ptr.example.test.")}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// pickySource knows only the SPNs in known; others are unknown to its KDC.
type pickySource struct {
	*fakeSource
	known map[string]bool
}

func (p *pickySource) ServiceTicket(ctx context.Context, spn string) (*ticket.Ticket, error) {
	tkt, err := p.fakeSource.ServiceTicket(ctx, spn)
	if err == nil && !p.known[spn] {
		return nil, fmt.Errorf("%s: %w", spn, credentials.ErrPrincipalUnknown)
	}
	return tkt, err
}

func TestSPNCanonicalization(t *testing.T) {
	t.Parallel()
	resolver := fakeDNS(t)
	tests := []struct {
		canon, rdns string
		known       []string
		want        []string // SPNs asked, in order
	}{
		{"false", "false", nil, []string{"HTTP/alias.example.test"}},
		{"true", "false", nil, []string{"HTTP/real.example.test"}},
		{"true", "true", nil, []string{"HTTP/ptr.example.test"}},
		{"fallback", "false", []string{"HTTP/alias.example.test"}, []string{"HTTP/alias.example.test"}},
		{"fallback", "false", []string{"HTTP/real.example.test"}, []string{"HTTP/alias.example.test", "HTTP/real.example.test"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("canonicalize=%s,rdns=%s,known=%v", tc.canon, tc.rdns, tc.known), func(t *testing.T) {
			cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = " + realm +
				"\n dns_canonicalize_hostname = " + tc.canon + "\n rdns = " + tc.rdns + "\n")
			if err != nil {
				t.Fatal(err)
			}
			src := &pickySource{fakeSource: &fakeSource{t: t, svc: krbtest.NewService(t, "HTTP/x", realm)}, known: map[string]bool{}}
			for _, k := range tc.known {
				src.known[k] = true
			}
			if tc.known == nil {
				src.known[tc.want[len(tc.want)-1]] = true
			}
			tr, err := auth.NewTransport(&recordingTransport{}, auth.WithCredentials(src), auth.WithConfig(cfg),
				auth.WithResolver(resolver), auth.WithMutualAuthentication(auth.MutualDisabled))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", "http://alias.example.test/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || auth.ResponseError(resp) != nil {
				t.Fatalf("status %d, reason %v", resp.StatusCode, auth.ResponseError(resp))
			}
			if got := src.spns(); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("SPNs asked %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSPNCanonicalizationCached: the lookups behind one request's SPN
// serve the next requests too (for a minute; see canonicalHost).
func TestSPNCanonicalizationCached(t *testing.T) {
	t.Parallel()
	resolver, queries := countingDNS(t)
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = " + realm + "\n dns_canonicalize_hostname = true\n rdns = true\n")
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{t: t, svc: krbtest.NewService(t, "HTTP/x", realm)}
	tr, err := auth.NewTransport(&recordingTransport{}, auth.WithCredentials(src), auth.WithConfig(cfg),
		auth.WithResolver(resolver), auth.WithMutualAuthentication(auth.MutualDisabled))
	if err != nil {
		t.Fatal(err)
	}
	var first int32
	for i := range 3 {
		req, _ := http.NewRequest("GET", "http://alias.example.test/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if i == 0 {
			first = queries.Load()
		}
	}
	if first == 0 || queries.Load() != first {
		t.Fatalf("%d DNS queries for the first request, %d for three; want the later ones answered from the cache", first, queries.Load())
	}
	if got := src.spns(); len(got) != 3 || got[2] != "HTTP/ptr.example.test" {
		t.Fatalf("SPNs %q", got)
	}
}
