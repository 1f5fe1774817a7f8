package kdc

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/dnstest"
)

// proxyName is a name the test certificate of httptest covers
// (*.example.com); the test DNS server maps it to loopback.
const proxyName = "kdcproxy.example.com"

// kkdcpServer is an MS-KKDCP endpoint answering with reply(realm,
// message), behaving as python3-kdcproxy does: POST only, the body one
// KDC-PROXY-MESSAGE with a realm, the answer one with the KDC's reply.
type kkdcpServer struct {
	*httptest.Server
	hits  atomic.Int32
	realm atomic.Value
}

func startKKDCP(t *testing.T, reply func(realm string, msg []byte) []byte) *kkdcpServer {
	t.Helper()
	s := &kkdcpServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/KdcProxy" {
			http.Error(w, "no", http.StatusMethodNotAllowed)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		m, err := DecodeProxyMessage(b)
		if err != nil || m.Realm == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.realm.Store(m.Realm)
		out, err := EncodeProxyMessage(ProxyMessage{Message: reply(m.Realm, m.Message)})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", KKDCPContentType)
		_, _ = w.Write(out)
	}))
	t.Cleanup(s.Close)
	return s
}

// anchorFile writes the server's certificate as a PEM file and returns
// "FILE:path".
func anchorFile(t *testing.T, s *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return "FILE:" + path
}

// proxyTransport points realm R at the proxy by name, resolved by a test
// DNS server, with the given anchors.
func proxyTransport(t *testing.T, s *httptest.Server, anchors ...string) *NetTransport {
	t.Helper()
	dns := dnstest.Start(t)
	dns.AddA(proxyName, net.IPv4(127, 0, 0, 1))
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	st := DefaultSettings()
	st.Realms["R"] = RealmSettings{KDCs: []string{"https://" + proxyName + ":" + port + "/KdcProxy"}, HTTPAnchors: anchors}
	return &NetTransport{Settings: st, Dialer: &net.Dialer{Resolver: dns.Resolver()}, AttemptTimeout: 2 * time.Second}
}

func TestKKDCPExchange(t *testing.T) {
	s := startKKDCP(t, func(_ string, msg []byte) []byte { return append([]byte{'P'}, msg...) })
	tr := proxyTransport(t, s.Server, anchorFile(t, s.Server))
	for range 2 {
		reply, err := tr.Exchange(context.Background(), "R", []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if string(reply) != "Phello" || s.realm.Load() != "R" {
			t.Fatalf("reply %q realm %v", reply, s.realm.Load())
		}
	}
	if s.hits.Load() != 2 {
		t.Errorf("%d requests for 2 exchanges", s.hits.Load())
	}
}

func TestKKDCPVerifiesTLS(t *testing.T) {
	s := startKKDCP(t, func(_ string, msg []byte) []byte { return msg })
	// No anchors: the system's roots, which do not hold the test CA.
	_, err := proxyTransport(t, s.Server).Exchange(context.Background(), "R", []byte("x"))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v", err)
	}
	// An anchor that is not the server's CA.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "not-ca.pem"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = proxyTransport(t, s.Server, "DIR:"+dir).Exchange(context.Background(), "R", []byte("x"))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "http_anchors") {
		t.Fatalf("bad anchors: err = %v", err)
	}
	if s.hits.Load() != 0 {
		t.Errorf("%d requests reached an unverified proxy", s.hits.Load())
	}
}

func TestLoadAnchors(t *testing.T) {
	s := httptest.NewTLSServer(http.NotFoundHandler())
	defer s.Close()
	file := anchorFile(t, s)
	dir := filepath.Dir(strings.TrimPrefix(file, "FILE:"))
	env := map[string]string{"CA": file, "LOOP": "ENV:LOOP"}
	getenv := func(k string) string { return env[k] }
	for _, ok := range [][]string{{file}, {"DIR:" + dir}, {"ENV:CA"}, {file, "DIR:" + dir}} {
		if _, err := LoadAnchors(ok, getenv); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"ENV:LOOP", "ENV:UNSET", "FILE:/nonexistent", "DIR:" + t.TempDir(), dir} {
		if _, err := LoadAnchors([]string{bad}, getenv); err == nil {
			t.Errorf("%q loaded", bad)
		}
	}
}

// TestKKDCPProxyFromEnvironment: HTTPS_PROXY is honoured, through CONNECT.
func TestKKDCPProxyFromEnvironment(t *testing.T) {
	s := startKKDCP(t, func(_ string, msg []byte) []byte { return msg })
	var connects atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || !strings.HasPrefix(r.Host, proxyName+":") {
			http.Error(w, "CONNECT to the KDC proxy only", http.StatusForbidden)
			return
		}
		connects.Add(1)
		up, err := net.Dial("tcp", s.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		w.WriteHeader(http.StatusOK)
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		go func() { _, _ = io.Copy(up, buf) }()
		_, _ = io.Copy(c, up)
	}))
	defer proxy.Close()
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	tr := proxyTransport(t, s.Server, anchorFile(t, s.Server))
	tr.Dialer = nil // the name is resolved by the proxy, not here
	if _, err := tr.Exchange(context.Background(), "R", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if connects.Load() != 1 || s.hits.Load() != 1 {
		t.Errorf("CONNECTs %d, proxy requests %d", connects.Load(), s.hits.Load())
	}
}

// TestKKDCPHostileProxy: what a broken or hostile KDC proxy answers gives
// a typed, bounded error, one request each.
func TestKKDCPHostileProxy(t *testing.T) {
	good, _ := EncodeProxyMessage(ProxyMessage{Message: []byte("reply")})
	cases := map[string]struct {
		handler func(w http.ResponseWriter, r *http.Request)
		want    string
		typed   func(error) bool
	}{
		"HTTP error": {
			handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) },
			want:    "HTTP 503",
			typed:   func(err error) bool { var pe *ProxyError; return errors.As(err, &pe) && pe.StatusCode == 503 },
		},
		"garbage": {
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>hello</html>")) },
			want:    "not one DER SEQUENCE",
			typed:   func(err error) bool { return errors.Is(err, ErrMalformed) },
		},
		"wrong length prefix": {
			handler: func(w http.ResponseWriter, _ *http.Request) {
				b := bytes.Clone(good)
				b[len(b)-6]++ // the prefix's last byte
				_, _ = w.Write(b)
			},
			want:  "length prefix",
			typed: func(err error) bool { return errors.Is(err, ErrMalformed) },
		},
		"oversized": {
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write(bytes.Repeat([]byte{0x30}, MaxKKDCPMessage+10))
			},
			want:  "exceeds",
			typed: func(err error) bool { return errors.Is(err, ErrMalformed) },
		},
		"truncated": {
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "1000")
				_, _ = w.Write(good)
				http.NewResponseController(w).Flush()
				c, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = c.Close()
				}
			},
			want:  "closed without a reply",
			typed: func(err error) bool { return errors.Is(err, ErrUnreachable) },
		},
		"redirect loop": {
			handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) },
			want:    "HTTP 302",
			typed:   func(err error) bool { var pe *ProxyError; return errors.As(err, &pe) && pe.StatusCode == 302 },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				c.handler(w, r)
			}))
			defer s.Close()
			start := time.Now()
			_, err := proxyTransport(t, s, anchorFile(t, s)).Exchange(context.Background(), "R", []byte("x"))
			if !errors.Is(err, ErrUnreachable) || !c.typed(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if hits.Load() != 1 || time.Since(start) > 2*time.Second {
				t.Errorf("%d requests in %v", hits.Load(), time.Since(start))
			}
		})
	}
}

// TestKKDCPSlowProxyHonoursContext: a caller's deadline that expires
// while the proxy is slow returns the context's error.
func TestKKDCPSlowProxyHonoursContext(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer s.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := proxyTransport(t, s, anchorFile(t, s)).Exchange(ctx, "R", []byte("x"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnreachable) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// TestMixedOrder: KDC proxy URLs and host entries are tried in MIT's
// order, the proxy in its place in the first pass.
func TestMixedOrder(t *testing.T) {
	servers := []Server{
		{Protocol: ProtoAny, Addr: "a:88"},
		{Protocol: ProtoKKDCP, URL: "https://p/"},
		{Protocol: ProtoTCP, Addr: "t:88"},
		{Protocol: ProtoUDP, Addr: "u:88"},
	}
	str := func(as []attempt) string {
		var b strings.Builder
		for _, a := range as {
			b.WriteString(a.network + " " + a.server.String() + "; ")
		}
		return b.String()
	}
	for s, want := range map[strategy]string{
		udpFirst: "udp a:88; https https://p/; udp u:88; tcp a:88; tcp t:88; ",
		udpLast:  "tcp a:88; https https://p/; tcp t:88; udp a:88; udp u:88; ",
		noUDP:    "tcp a:88; https https://p/; tcp t:88; ",
	} {
		if got := str(plan(servers, s)); got != want {
			t.Errorf("strategy %d:\n got %s\nwant %s", s, got, want)
		}
	}
}

// TestMixedFallback: a dead KDC, then the proxy answers.
func TestMixedFallback(t *testing.T) {
	s := startKKDCP(t, func(_ string, msg []byte) []byte { return append([]byte("via proxy "), msg...) })
	tr := proxyTransport(t, s.Server, anchorFile(t, s.Server))
	rs := tr.Settings.Realms["R"]
	rs.KDCs = append([]string{deadAddr(t)}, rs.KDCs...)
	tr.Settings.Realms["R"] = rs
	reply, err := tr.Exchange(context.Background(), "R", []byte("x"))
	if err != nil || string(reply) != "via proxy x" {
		t.Fatalf("reply %q err %v", reply, err)
	}
}

func TestParseKDC(t *testing.T) {
	for in, want := range map[string]Server{
		"kdc.example.test":                       {Protocol: ProtoAny, Addr: "kdc.example.test:88"},
		"https://kdc.example.test/KdcProxy":      {Protocol: ProtoKKDCP, URL: "https://kdc.example.test:443/KdcProxy"},
		"https://kdc.example.test:8443":          {Protocol: ProtoKKDCP, URL: "https://kdc.example.test:8443/"},
		"https://[::1]:8443/kdc/proxy":           {Protocol: ProtoKKDCP, URL: "https://[::1]:8443/kdc/proxy"},
		"https://KDC.example.test/KdcProxy:88 *": {Protocol: ProtoKKDCP, URL: "https://KDC.example.test:443/KdcProxy:88"},
	} {
		got, err := ParseKDC(in)
		if err != nil || got != want {
			t.Errorf("ParseKDC(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "http://kdc/", "https://", "https://u:p@kdc/", "https://kdc/?q=1", "/run/kdc.sock", "https://kdc:99999/"} {
		if s, err := ParseKDC(bad); err == nil {
			t.Errorf("ParseKDC(%q) = %+v", bad, s)
		}
	}
}
