package kdcproxy_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
	"github.com/krbhttp/krbhttp/auth/kdcproxy"
)

const realm = "EXAMPLE.TEST"

// tcpKDC serves a fake KDC over TCP on loopback, as a real KDC's TCP
// port does (RFC 4120 7.2.2: 4-byte length, message).
func tcpKDC(t *testing.T, answer func(req []byte) []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req, err := kdc.ReadTCPMessage(c, 1<<20)
				if err != nil {
					return
				}
				if rep := answer(req); rep != nil {
					_, _ = c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(rep))), rep...))
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	return l.Addr().String()
}

func fakeRealm(t *testing.T) (*kdcfake.KDC, string) {
	t.Helper()
	fake := kdcfake.New(realm)
	if err := fake.AddUser("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if err := fake.AddService("HTTP/web.example.test"); err != nil {
		t.Fatal(err)
	}
	addr := tcpKDC(t, func(req []byte) []byte {
		rep, err := fake.Exchange(context.Background(), realm, req)
		if err != nil {
			return nil
		}
		return rep
	})
	return fake, addr
}

// logBuffer collects the handler's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func startProxy(t *testing.T, opts ...kdcproxy.Option) (*httptest.Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts = append([]kdcproxy.Option{kdcproxy.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	h, err := kdcproxy.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/KdcProxy", h)
	s := httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return s, logs
}

// TestLoginThroughProxy: this module's KDC client, its KDC proxy and a
// KDC: a login and a service ticket, both through HTTPS.
func TestLoginThroughProxy(t *testing.T) {
	fake, kdcAddr := fakeRealm(t)
	s, logs := startProxy(t, kdcproxy.WithRealm(realm, kdcAddr))
	st := kdc.DefaultSettings()
	st.Realms[realm] = kdc.RealmSettings{KDCs: []string{s.URL + "/KdcProxy"}}
	cfg := config.New()
	cfg.LibDefaults.DefaultRealm = realm
	c := kdc.New(cfg, kdc.WithTransport(&kdc.NetTransport{Settings: st, HTTPClient: s.Client()}))
	alice := types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{"alice"}}
	tgt, err := c.Login(context.Background(), alice, realm, kdc.Password("alice-pw"), kdc.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	web := types.PrincipalName{NameType: nametype.KRB_NT_SRV_HST, NameString: []string{"HTTP", "web.example.test"}}
	if _, err := c.ServiceTicket(context.Background(), tgt, web, realm, nil); err != nil {
		t.Fatal(err)
	}
	if fake.ASCount("alice") != 1 || fake.TGSCount("HTTP/web.example.test") != 1 {
		t.Errorf("AS %d TGS %d", fake.ASCount("alice"), fake.TGSCount("HTTP/web.example.test"))
	}
	log := logs.String()
	for _, want := range []string{"type=AS-REQ", "type=TGS-REQ", "realm=" + realm, "kdc=" + kdcAddr, "status=200"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "alice-pw") {
		t.Error("the password reached the log")
	}
}

func proxyMessage(t *testing.T, realm string, msg []byte) []byte {
	t.Helper()
	b, err := kdc.EncodeProxyMessage(kdc.ProxyMessage{Message: msg, Realm: realm})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// asReq is a minimal element with the AS-REQ tag; the fake KDCs here
// answer without parsing it.
var asReq = []byte{0x6a, 0x03, 0x02, 0x01, 0x05}

// TestRefusals: bad requests get python3-kdcproxy's statuses, and the
// handler keeps serving.
func TestRefusals(t *testing.T) {
	kdcReplies := 0
	var mu sync.Mutex
	goodKDC := tcpKDC(t, func([]byte) []byte {
		mu.Lock()
		kdcReplies++
		mu.Unlock()
		return []byte{0x7e, 0x03, 0x02, 0x01, 0x00}
	})
	badKDC := tcpKDC(t, func([]byte) []byte { return []byte("HTTP/1.0 200 OK\r\n\r\n") })
	s, _ := startProxy(t, kdcproxy.WithRealm(realm, goodKDC), kdcproxy.WithRealm("BAD.TEST", badKDC),
		kdcproxy.WithRealm("DEAD.TEST", deadAddr(t)), kdcproxy.WithMaxRequestBytes(1024))
	post := func(body []byte) *http.Response {
		resp, err := s.Client().Post(s.URL+"/KdcProxy", "application/kerberos", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	kpasswd, _ := hex.DecodeString("6e03020105") // AP-REQ tag
	cases := map[string]struct {
		body []byte
		want int
	}{
		"garbage":          {[]byte("GET / HTTP/1.1\r\n\r\n"), 400},
		"empty":            {nil, 400},
		"no realm":         {proxyMessage(t, "", asReq), 400},
		"AP-REQ (kpasswd)": {proxyMessage(t, realm, kpasswd), 400},
		"two elements":     {proxyMessage(t, realm, append(append([]byte{}, asReq...), asReq...)), 400},
		"unknown realm":    {proxyMessage(t, "OTHER.TEST", asReq), 503},
		"KDC down":         {proxyMessage(t, "DEAD.TEST", asReq), 503},
		"KDC not Kerberos": {proxyMessage(t, "BAD.TEST", asReq), 502},
		"too large":        {bytes.Repeat([]byte{0x30}, 2000), 413},
	}
	for name, c := range cases {
		if resp := post(c.body); resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, c.want)
		}
	}
	// Still serving, and a good request gets its reply.
	resp, err := s.Client().Post(s.URL+"/KdcProxy", "application/kerberos", bytes.NewReader(proxyMessage(t, realm, asReq)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m, err := kdc.DecodeProxyMessage(b)
	if resp.StatusCode != 200 || err != nil || m.Message[0] != 0x7e || resp.Header.Get("Content-Type") != "application/kerberos" {
		t.Fatalf("status %d, %v, %x", resp.StatusCode, err, m.Message)
	}
	if kdcReplies != 1 {
		t.Errorf("the KDC saw %d requests, want 1 (refused requests must not reach it)", kdcReplies)
	}
	// Method and length.
	r, _ := s.Client().Get(s.URL + "/KdcProxy")
	if r.StatusCode != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d %q", r.StatusCode, r.Header.Get("Allow"))
	}
	_ = r.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/KdcProxy", io.NopCloser(bytes.NewReader(proxyMessage(t, realm, asReq))))
	req.ContentLength = -1 // chunked
	if r, err := s.Client().Do(req); err != nil || r.StatusCode != 411 {
		t.Errorf("chunked: %v %v", r, err)
	} else {
		_ = r.Body.Close()
	}
}

func TestPlainHTTPRefused(t *testing.T) {
	h, err := kdcproxy.New(kdcproxy.WithRealm(realm, "127.0.0.1:88"))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/KdcProxy", bytes.NewReader(proxyMessage(t, realm, asReq))))
	if w.Code != http.StatusForbidden {
		t.Fatalf("plain HTTP: %d", w.Code)
	}
}

// TestSlowKDCBounded: a KDC that never answers costs the KDC timeout per
// KDC, then 503; the client's own cancellation ends it sooner.
func TestSlowKDCBounded(t *testing.T) {
	hold := make(chan struct{})
	silent := tcpKDC(t, func([]byte) []byte { <-hold; return nil })
	t.Cleanup(func() { close(hold) }) // runs before the KDC's cleanup waits for it
	s, logs := startProxy(t, kdcproxy.WithRealm(realm, silent, silent), kdcproxy.WithKDCTimeout(100*time.Millisecond))
	start := time.Now()
	resp, err := s.Client().Post(s.URL+"/KdcProxy", "application/kerberos", bytes.NewReader(proxyMessage(t, realm, asReq)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 503 || time.Since(start) > time.Second {
		t.Fatalf("status %d after %v", resp.StatusCode, time.Since(start))
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning logged:\n%s", logs)
	}
}

func TestOptions(t *testing.T) {
	for name, opts := range map[string][]kdcproxy.Option{
		"no realm":       nil,
		"empty realm":    {kdcproxy.WithRealm("", "127.0.0.1")},
		"no KDC":         {kdcproxy.WithRealm(realm)},
		"proxy as KDC":   {kdcproxy.WithRealm(realm, "https://proxy/KdcProxy")},
		"tiny limit":     {kdcproxy.WithRealm(realm, "k"), kdcproxy.WithMaxRequestBytes(10)},
		"zero timeout":   {kdcproxy.WithRealm(realm, "k"), kdcproxy.WithTimeout(0)},
		"zero KDC limit": {kdcproxy.WithRealm(realm, "k"), kdcproxy.WithKDCTimeout(0)},
		"no concurrency": {kdcproxy.WithRealm(realm, "k"), kdcproxy.WithMaxConcurrent(0)},
		"nil dialer":     {kdcproxy.WithRealm(realm, "k"), kdcproxy.WithDialer(nil)},
		"nil config":     {kdcproxy.WithConfig(nil)},
	} {
		if _, err := kdcproxy.New(opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	h, err := kdcproxy.New(kdcproxy.WithRealm(realm, "kdc1", "[::1]:750"))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Realms()[realm]; len(got) != 2 || got[0] != "kdc1:88" || got[1] != "[::1]:750" {
		t.Errorf("realms %v", got)
	}
}

func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
