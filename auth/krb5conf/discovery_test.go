package krb5conf_test

import (
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

func TestDiscoverySettings(t *testing.T) {
	cfg, err := krb5conf.Parse(`[libdefaults]
	dns_fallback = no
	dns_lookup_realm = on
[realms]
	A.TEST = {
		kdc = https://proxy.a.test/KdcProxy
		kdc = kdc.a.test
		http_anchors = FILE:/etc/a.pem
		http_anchors = ENV:A_CA
		master_kdc = primary.a.test
	}
[capaths]
	A.TEST = {
		B.TEST = C.TEST
		B.TEST = D.TEST
		C.TEST = .
	}
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DNSLookupKDC || !cfg.DNSLookupRealm || !cfg.DNSURILookup {
		t.Errorf("dns_lookup_kdc %v (dns_fallback), dns_lookup_realm %v, dns_uri_lookup %v", cfg.DNSLookupKDC, cfg.DNSLookupRealm, cfg.DNSURILookup)
	}
	if got := strings.Join(cfg.HTTPAnchors["A.TEST"], " "); got != "FILE:/etc/a.pem ENV:A_CA" {
		t.Errorf("http_anchors %q", got)
	}
	if got := cfg.PrimaryKDCs["A.TEST"]; len(got) != 1 || got[0] != "primary.a.test" {
		t.Errorf("primary KDCs %q", got)
	}
	if got := strings.Join(cfg.CapathsFor("A.TEST", "B.TEST"), " "); got != "C.TEST D.TEST" {
		t.Errorf("capaths A->B %q", got)
	}
	if got := cfg.CapathsFor("A.TEST", "C.TEST"); len(got) != 1 || got[0] != "." {
		t.Errorf("capaths A->C %q", got)
	}
	if got := strings.Join(cfg.Realms[0].KDC, " "); got != "https://proxy.a.test/KdcProxy kdc.a.test:88" {
		t.Errorf("kdc %q", got)
	}
	def, _ := krb5conf.Parse("[libdefaults]\n default_realm = A.TEST\n")
	if !def.DNSLookupKDC || def.DNSLookupRealm || !def.DNSURILookup {
		t.Errorf("MIT defaults: dns_lookup_kdc %v dns_lookup_realm %v dns_uri_lookup %v", def.DNSLookupKDC, def.DNSLookupRealm, def.DNSURILookup)
	}
	if _, err := krb5conf.Parse("[libdefaults]\n dns_uri_lookup = maybe\n"); err == nil {
		t.Error("dns_uri_lookup = maybe accepted")
	}
}
