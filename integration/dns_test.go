package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/dnsmasq"
	"github.com/krbhttp/krbhttp/integration/internal/pykdcproxy"
)

// dnsConf writes a krb5.conf naming no KDC for the realm (MIT's default
// dns_lookup_kdc applies), with extra [libdefaults] lines and the realm's
// subsection body, and loads it.
func dnsConf(t *testing.T, libdefaults, realmBody string) *krb5conf.Config {
	t.Helper()
	r := env.realm.Realm
	text := "[libdefaults]\n\tdefault_realm = " + r + "\n\tdns_canonicalize_hostname = false\n\trdns = false\n" + libdefaults +
		"\n[realms]\n\t" + r + " = {\n" + realmBody + "\t}\n[domain_realm]\n\tlocalhost = " + r + "\n"
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := krb5conf.LoadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// TestDNSDiscoveryDnsmasq: with no KDC in krb5.conf, the client finds the
// realm's KDC in records served by dnsmasq: a URI record (MIT's
// krb5srv:), SRV records when dns_uri_lookup is off, and a kkdcp URI
// record naming python3-kdcproxy.
func TestDNSDiscoveryDnsmasq(t *testing.T) {
	t.Parallel()
	host, port, _ := net.SplitHostPort(env.realm.KDCAddr)
	p, _ := strconv.Atoi(port)
	// SRV targets are names: loopback's, or the KDC's on the compose network.
	target := host
	if net.ParseIP(host) != nil {
		target = "localhost"
	}
	site := newTLSSite(t)
	py := pykdcproxy.Start(t, pykdcproxy.Config{
		Realms:   map[string]string{env.realm.Realm: env.realm.KDCAddr},
		CertFile: site.certFile, KeyFile: site.keyFile,
	})
	realm := env.realm.Realm
	dns := dnsmasq.Start(t,
		dnsmasq.Record{Name: "_kerberos." + realm, URI: &dnsmasq.URI{Priority: 10, Target: "krb5srv::tcp:" + host + ":" + port}},
		dnsmasq.Record{Name: "_kerberos." + realm, URI: &dnsmasq.URI{Priority: 5, Target: "krb5srv::sctp:nowhere.invalid"}},
		dnsmasq.Record{Name: "_kerberos._udp." + realm, SRV: &dnsmasq.SRV{Target: target, Port: uint16(p)}},
	)
	srv := startServer(t, env.httpKeytab, nil)
	user, pw := newUser(t)
	principal := env.realm.Principal(user)
	login := func(conf *krb5conf.Config) {
		t.Helper()
		c := client(t, auth.WithConfig(conf), auth.WithResolver(dns.Resolver()), auth.WithPrincipal(principal), auth.WithPassword(pw))
		if status, body := get(t, c, srv.URL); status != 200 || !strings.HasPrefix(body, principal) {
			t.Fatalf("status %d body %q\ndnsmasq log:\n%s", status, body, dns.Log())
		}
	}

	login(dnsConf(t, "", ""))
	if !strings.Contains(dns.Log(), "query[URI] _kerberos."+realm) || strings.Contains(dns.Log(), "query[SRV]") {
		t.Fatalf("URI lookup expected, and no SRV lookup:\n%s", dns.Log())
	}

	login(dnsConf(t, "\tdns_uri_lookup = false\n", ""))
	if !strings.Contains(dns.Log(), "query[SRV] _kerberos._udp."+realm) {
		t.Fatalf("no SRV lookup:\n%s", dns.Log())
	}

	// A DNS server announcing only the KDC proxy, trusted through the
	// realm's http_anchors.
	dns2 := dnsmasq.Start(t, dnsmasq.Record{Name: "_kerberos." + realm, URI: &dnsmasq.URI{Target: "krb5srv::kkdcp:" + py.URL}})
	conf := dnsConf(t, "", "\t\thttp_anchors = FILE:"+site.caFile+"\n")
	c := client(t, auth.WithConfig(conf), auth.WithResolver(dns2.Resolver()), auth.WithPrincipal(principal), auth.WithPassword(pw))
	if status, body := get(t, c, srv.URL); status != 200 || !strings.HasPrefix(body, principal) {
		t.Fatalf("via the kkdcp URI record: status %d body %q\n%s", status, body, py.Log())
	}
	if py.Count(realm+" AS-REQ") < 1 || py.Count(realm+" TGS-REQ") != 1 {
		t.Fatalf("python3-kdcproxy did not carry the exchanges:\n%s", py.Log())
	}
}

// TestDNSLookupRealm: with dns_lookup_realm, a host no [domain_realm]
// entry maps, whose realm the KDC does not know either, is found in its
// _kerberos TXT record (served by dnsmasq): the partner realm, reached
// through the trust, answers 200.
func TestDNSLookupRealm(t *testing.T) {
	t.Parallel()
	// A host of its own per run: the realm outlives one run of the test
	// (go test -count=2), and the service cannot be added twice.
	host := fmt.Sprint("web-", users.Add(1), ".dnsrealm.test")
	kt, err := env.partner.AddService("HTTP/"+host, false)
	if err != nil {
		t.Fatal(err)
	}
	dns := dnsmasq.Start(t, dnsmasq.Record{Name: "_kerberos.dnsrealm.test", TXT: env.partner.Realm})
	b, err := os.ReadFile(env.realm.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "krb5.conf")
	text := strings.Replace(string(b), "dns_lookup_realm = false", "dns_lookup_realm = true", 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := krb5conf.LoadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, kt, nil, acceptor.WithRealms(env.partner.Realm, env.realm.Realm))
	user, pw := newUser(t)
	c := client(t, auth.WithConfig(conf), auth.WithResolver(dns.Resolver()), auth.WithHostnameOverride(host),
		auth.WithPrincipal(user), auth.WithPassword(pw))
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	status, why := resp.StatusCode, auth.ResponseError(resp)
	if status != 200 {
		t.Fatalf("status %d: %v", status, why)
	}
	if !strings.Contains(dns.Log(), "query[TXT] _kerberos."+host) {
		t.Fatalf("no TXT lookup:\n%s", dns.Log())
	}
	if n, _ := env.partner.TGSCount(env.realm.Principal(user), "HTTP/"+host); n != 1 {
		t.Fatalf("partner KDC issued %d tickets for HTTP/%s (status %d, %v)", n, host, status, why)
	}
}
