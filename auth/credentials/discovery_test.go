package credentials_test

import (
	"context"
	"encoding/binary"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/dnstest"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
	"github.com/krbhttp/krbhttp/auth/kdcproxy"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// fakeTCPKDC serves a fake KDC on a loopback TCP port.
func fakeTCPKDC(t *testing.T, fake *kdcfake.KDC) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := kdc.ReadTCPMessage(c, 1<<20)
				if err != nil {
					return
				}
				rep, err := fake.Exchange(context.Background(), fake.Realm, req)
				if err == nil {
					_, _ = c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(rep))), rep...))
				}
			}()
		}
	}()
	return l.Addr().String()
}

func newFake(t *testing.T) *kdcfake.KDC {
	t.Helper()
	fake := kdcfake.New("EXAMPLE.TEST")
	if err := fake.AddUser("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if err := fake.AddService("HTTP/web.example.test"); err != nil {
		t.Fatal(err)
	}
	return fake
}

// TestKDCProxyConfig: a krb5.conf whose only KDC is a KDC proxy, trusted
// through http_anchors; a login and a service ticket go through it.
func TestKDCProxyConfig(t *testing.T) {
	fake := newFake(t)
	h, err := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", fakeTCPKDC(t, fake)))
	if err != nil {
		t.Fatal(err)
	}
	var posts int
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts++; h.ServeHTTP(w, r) }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := krb5conf.Parse(`[libdefaults]
	default_realm = EXAMPLE.TEST
[realms]
	EXAMPLE.TEST = {
		kdc = ` + srv.URL + `/KdcProxy
		http_anchors = FILE:` + ca + `
	}
[domain_realm]
	.example.test = EXAMPLE.TEST
`)
	if err != nil {
		t.Fatal(err)
	}
	src, err := credentials.NewPasswordSource(cfg, "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ServiceTicket(context.Background(), "HTTP/web.example.test"); err != nil {
		t.Fatal(err)
	}
	// AS-REQ, AS-REQ with pre-authentication, TGS-REQ.
	if posts != 3 || fake.ASCount("alice") != 1 || fake.TGSCount("HTTP/web.example.test") != 1 {
		t.Errorf("posts %d AS %d TGS %d", posts, fake.ASCount("alice"), fake.TGSCount("HTTP/web.example.test"))
	}
}

// TestDNSDiscoveryConfig: no KDC in krb5.conf, MIT's default
// dns_lookup_kdc: the URI record found through the given resolver names
// the KDC.
func TestDNSDiscoveryConfig(t *testing.T) {
	fake := newFake(t)
	_, port, _ := net.SplitHostPort(fakeTCPKDC(t, fake))
	dns := dnstest.Start(t)
	dns.AddURI("_kerberos.EXAMPLE.TEST", 0, 0, "krb5srv::tcp:127.0.0.1:"+port)
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = EXAMPLE.TEST\n[domain_realm]\n .example.test = EXAMPLE.TEST\n")
	if err != nil {
		t.Fatal(err)
	}
	src, err := credentials.NewPasswordSource(cfg, "alice", "alice-pw", credentials.WithResolver(dns.Resolver()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ServiceTicket(context.Background(), "HTTP/web.example.test"); err != nil {
		t.Fatal(err)
	}
	if dns.Queries() == 0 || fake.ASCount("alice") != 1 {
		t.Errorf("DNS queries %d, AS %d", dns.Queries(), fake.ASCount("alice"))
	}
}
