package kdc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/krbhttp/krbhttp/auth/internal/dnstest"
)

func dnsTransport(s *dnstest.Server) *NetTransport {
	return &NetTransport{
		Settings:       DefaultSettings(),
		DNS:            &DNS{Servers: []string{s.Addr}, Timeout: time.Second},
		Dialer:         &net.Dialer{Resolver: s.Resolver()},
		AttemptTimeout: time.Second,
	}
}

func TestLocateURI(t *testing.T) {
	s := dnstest.Start(t)
	s.AddURI("_kerberos.EXAMPLE.TEST", 20, 0, "krb5srv::kkdcp:https://proxy.example.test/KdcProxy")
	s.AddURI("_kerberos.EXAMPLE.TEST", 10, 5, "krb5srv:m:udp:kdc1.example.test:8800")
	s.AddURI("_kerberos.EXAMPLE.TEST", 10, 1, "krb5srv::tcp:[::1]")
	s.AddURI("_kerberos.EXAMPLE.TEST", 5, 0, "http://not-kerberos.example.test/")
	s.AddURI("_kerberos.EXAMPLE.TEST", 5, 0, "krb5srv::kkdcp:http://plain.example.test/")
	s.AddURI("_kerberos.EXAMPLE.TEST", 5, 0, "krb5srv::sctp:kdc.example.test")
	s.AddSRV("_kerberos._udp.EXAMPLE.TEST", 0, 0, 88, "srv.example.test") // URI records win
	tr := dnsTransport(s)
	got, err := tr.Locate(context.Background(), "EXAMPLE.TEST", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{Protocol: ProtoUDP, Addr: "kdc1.example.test:8800", Primary: true},
		{Protocol: ProtoTCP, Addr: "[::1]:88"},
		{Protocol: ProtoKKDCP, URL: "https://proxy.example.test:443/KdcProxy"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("servers %+v\nwant %+v", got, want)
	}
	primary, err := tr.Locate(context.Background(), "EXAMPLE.TEST", true)
	if err != nil || len(primary) != 1 || primary[0].Addr != "kdc1.example.test:8800" {
		t.Fatalf("primary %+v %v", primary, err)
	}
	tr.Settings.DNSURILookup = false
	got, err = tr.Locate(context.Background(), "EXAMPLE.TEST", false)
	if err != nil || len(got) != 1 || got[0].Addr != "srv.example.test:88" {
		t.Fatalf("dns_uri_lookup off: %+v %v", got, err)
	}
}

func TestLocateSRV(t *testing.T) {
	s := dnstest.Start(t)
	s.AddSRV("_kerberos._udp.EXAMPLE.TEST", 20, 0, 750, "kdc2.example.test")
	s.AddSRV("_kerberos._udp.EXAMPLE.TEST", 10, 0, 88, "kdc1.example.test")
	s.AddSRV("_kerberos._tcp.EXAMPLE.TEST", 0, 0, 88, "kdc1.example.test")
	s.AddSRV("_kerberos-master._tcp.EXAMPLE.TEST", 0, 0, 88, "primary.example.test")
	s.AddSRV("_kerberos._udp.NONE.TEST", 0, 0, 0, ".")
	tr := dnsTransport(s)
	got, err := tr.Locate(context.Background(), "EXAMPLE.TEST", false)
	if err != nil {
		t.Fatal(err)
	}
	want := "[kdc1.example.test:88 kdc2.example.test:750 kdc1.example.test:88]"
	if fmt.Sprint(got) != want || got[0].Protocol != ProtoUDP || got[2].Protocol != ProtoTCP {
		t.Fatalf("servers %+v, want %s", got, want)
	}
	primary, err := tr.Locate(context.Background(), "EXAMPLE.TEST", true)
	if err != nil || fmt.Sprint(primary) != "[primary.example.test:88]" {
		t.Fatalf("primary %+v %v", primary, err)
	}
	if _, err := tr.Locate(context.Background(), "NONE.TEST", false); !errors.Is(err, ErrNoService) {
		t.Fatalf("SRV '.': %v", err)
	}
	_, err = tr.Locate(context.Background(), "MISSING.TEST", false)
	if err == nil || !strings.Contains(err.Error(), "none in DNS") {
		t.Fatalf("no records: %v", err)
	}
	tr.Settings.DNSLookupKDC = false
	if _, err := tr.Locate(context.Background(), "EXAMPLE.TEST", false); err == nil || !strings.Contains(err.Error(), "dns_lookup_kdc off") {
		t.Fatalf("dns_lookup_kdc off: %v", err)
	}
}

// TestDNSDiscoveryExchange: SRV records name a KDC host whose address
// comes from the same test DNS server; the request reaches it.
func TestDNSDiscoveryExchange(t *testing.T) {
	kdc := startFake(t, echo('U'), echo('T'))
	host, port, _ := net.SplitHostPort(kdc.addr)
	p, _ := strconv.Atoi(port)
	s := dnstest.Start(t)
	s.AddSRV("_kerberos._udp.EXAMPLE.TEST", 0, 0, uint16(p), "kdc.example.test")
	s.AddA("kdc.example.test", net.ParseIP(host))
	reply, err := dnsTransport(s).Exchange(context.Background(), "EXAMPLE.TEST", []byte("x"))
	if err != nil || string(reply) != "Ux" {
		t.Fatalf("reply %q err %v", reply, err)
	}
}

func TestDNSTruncatedGoesTCP(t *testing.T) {
	s := dnstest.Start(t)
	for i := range 40 {
		s.AddSRV("_kerberos._tcp.BIG.TEST", uint16(i), 0, 88, fmt.Sprintf("kdc%02d.a-rather-long-name-to-fill-the-answer.example.test", i))
	}
	s.TruncateUDP(true)
	d := &DNS{Servers: []string{s.Addr}}
	srvs, err := d.LookupSRV(context.Background(), "_kerberos._tcp.BIG.TEST")
	if err != nil || len(srvs) != 40 || srvs[0].Target != "kdc00.a-rather-long-name-to-fill-the-answer.example.test." {
		t.Fatalf("%d records, err %v", len(srvs), err)
	}
	s.TruncateUDP(false)
	tr := dnsTransport(s)
	got, err := tr.Locate(context.Background(), "BIG.TEST", false)
	if err != nil || len(got) != maxKDCs {
		t.Fatalf("%d servers (bound %d), err %v", len(got), maxKDCs, err)
	}
}

func TestLookupTXTAndCNAME(t *testing.T) {
	s := dnstest.Start(t)
	s.AddTXT("_kerberos.example.test", "EXAMPLE.TEST")
	s.AddCNAME("_kerberos.alias.test", "_kerberos.example.test")
	d := &DNS{Servers: []string{s.Addr}}
	for _, name := range []string{"_kerberos.example.test", "_kerberos.alias.test."} {
		txt, err := d.LookupTXT(context.Background(), name)
		if err != nil || len(txt) != 1 || txt[0] != "EXAMPLE.TEST" {
			t.Errorf("%s: %q %v", name, txt, err)
		}
	}
	if txt, err := d.LookupTXT(context.Background(), "_kerberos.nowhere.test"); err != nil || len(txt) != 0 {
		t.Errorf("NXDOMAIN: %q %v", txt, err)
	}
}

// TestHostileDNS: replies that do not answer the question, cannot be
// parsed or are failures give typed errors, quickly; none panics.
func TestHostileDNS(t *testing.T) {
	answer := func(mut func(*dnsmessage.Header), body func(b *dnsmessage.Builder, q dnsmessage.Question)) func([]byte, dnsmessage.Question, bool) []byte {
		return func(query []byte, q dnsmessage.Question, _ bool) []byte {
			var p dnsmessage.Parser
			h, _ := p.Start(query)
			rh := dnsmessage.Header{ID: h.ID, Response: true}
			if mut != nil {
				mut(&rh)
			}
			b := dnsmessage.NewBuilder(nil, rh)
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if body != nil {
				body(&b, q)
			}
			out, _ := b.Finish()
			return out
		}
	}
	hdr := func(q dnsmessage.Question, typ dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: q.Name, Type: typ, Class: dnsmessage.ClassINET}
	}
	cases := map[string]struct {
		raw       func([]byte, dnsmessage.Question, bool) []byte
		malformed bool
		want      string
	}{
		"garbage":        {raw: func([]byte, dnsmessage.Question, bool) []byte { return []byte{1, 2, 3} }, malformed: true, want: "unparsable"},
		"wrong id":       {raw: answer(func(h *dnsmessage.Header) { h.ID++ }, nil), malformed: true, want: "does not match"},
		"not a response": {raw: answer(func(h *dnsmessage.Header) { h.Response = false }, nil), malformed: true, want: "does not match"},
		"servfail":       {raw: answer(func(h *dnsmessage.Header) { h.RCode = dnsmessage.RCodeServerFailure }, nil), want: "ServerFailure"},
		"short URI": {raw: answer(nil, func(b *dnsmessage.Builder, q dnsmessage.Question) {
			_ = b.UnknownResource(hdr(q, dnstest.TypeURI), dnsmessage.UnknownResource{Type: dnstest.TypeURI, Data: []byte{0, 1}})
		}), malformed: true, want: "URI record of 2 bytes"},
		"URI with control bytes": {raw: answer(nil, func(b *dnsmessage.Builder, q dnsmessage.Question) {
			_ = b.UnknownResource(hdr(q, dnstest.TypeURI), dnsmessage.UnknownResource{Type: dnstest.TypeURI, Data: []byte("\x00\x01\x00\x01krb5srv::udp:a\nb")})
		}), malformed: true, want: "byte 0xa"},
		"truncated over TCP too": {raw: answer(func(h *dnsmessage.Header) { h.Truncated = true }, nil), malformed: true, want: "truncated"},
		"silent":                 {raw: func([]byte, dnsmessage.Question, bool) []byte { return nil }, want: "timeout"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := dnstest.Start(t)
			s.Raw(c.raw)
			d := &DNS{Servers: []string{s.Addr}, Timeout: 300 * time.Millisecond}
			start := time.Now()
			_, err := d.LookupURI(context.Background(), "_kerberos.EXAMPLE.TEST")
			var de *DNSError
			if !errors.As(err, &de) || de.Type != "URI" || errors.Is(err, ErrMalformed) != c.malformed || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q (malformed %v)", err, c.want, c.malformed)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestLocateIgnoresHostileDNS: a realm whose DNS misbehaves gives an
// error that says so, not a panic or a hang.
func TestLocateIgnoresHostileDNS(t *testing.T) {
	s := dnstest.Start(t)
	s.Raw(func([]byte, dnsmessage.Question, bool) []byte { return []byte{0xff} })
	tr := dnsTransport(s)
	_, err := tr.Exchange(context.Background(), "EXAMPLE.TEST", []byte("x"))
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "none in DNS") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseKrb5srv(t *testing.T) {
	for in, want := range map[string]string{
		"krb5srv:m:udp:kdc.example.test":             "udp kdc.example.test:88 primary",
		"KRB5SRV::TCP:kdc.example.test:750":          "tcp kdc.example.test:750",
		"krb5srv:xm:kkdcp:https://p.example.test/k":  "kkdcp https://p.example.test:443/k primary",
		"krb5srv::kkdcp:https://p.example.test:8443": "kkdcp https://p.example.test:8443/",
		"krb5srv::udp:[2001:db8::1]:88":              "udp [2001:db8::1]:88",
	} {
		s, ok := parseKrb5srv(in)
		got := map[Protocol]string{ProtoUDP: "udp", ProtoTCP: "tcp", ProtoKKDCP: "kkdcp"}[s.Protocol] + " " + s.String()
		if s.Primary {
			got += " primary"
		}
		if !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "krb5srv", "krb5srv:", "krb5srv::udp", "krb5srv::udp:", "krb5srv::kkdcp:kdc.example.test", "krb5srv::http:x", "krb5srvx::udp:a", "krb5srv::udp:a/b", "krb5srv::udp::88"} {
		if s, ok := parseKrb5srv(bad); ok {
			t.Errorf("%q parsed as %+v", bad, s)
		}
	}
}

// FuzzParseDNSReply: any reply parses or fails with an error; none
// panics, and what parses is bounded.
func FuzzParseDNSReply(f *testing.F) {
	qname := dnsmessage.MustNewName("_kerberos.EXAMPLE.TEST.")
	for _, typ := range []dnsmessage.Type{dnstest.TypeURI, dnsmessage.TypeSRV, dnsmessage.TypeTXT} {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, Response: true})
		_ = b.StartQuestions()
		_ = b.Question(dnsmessage.Question{Name: qname, Type: typ, Class: dnsmessage.ClassINET})
		_ = b.StartAnswers()
		h := dnsmessage.ResourceHeader{Name: qname, Type: typ, Class: dnsmessage.ClassINET}
		switch typ {
		case dnstest.TypeURI:
			_ = b.UnknownResource(h, dnsmessage.UnknownResource{Type: typ, Data: []byte("\x00\x01\x00\x01krb5srv::kkdcp:https://p/")})
		case dnsmessage.TypeSRV:
			_ = b.SRVResource(h, dnsmessage.SRVResource{Port: 88, Target: dnsmessage.MustNewName("kdc.example.test.")})
		case dnsmessage.TypeTXT:
			_ = b.TXTResource(h, dnsmessage.TXTResource{TXT: []string{"EXAMPLE.TEST"}})
		}
		msg, _ := b.Finish()
		f.Add(msg, uint16(typ))
	}
	f.Fuzz(func(t *testing.T, reply []byte, typ uint16) {
		qtype := dnsmessage.Type(typ)
		recs, _, err := parseReply(reply, 7, qname, qtype)
		if err == nil && len(recs) > maxDNSRecords {
			t.Fatalf("%d records", len(recs))
		}
		for _, r := range recs {
			if qtype == dnstest.TypeURI {
				parseKrb5srv(r.uri.Target)
			}
		}
	})
}
