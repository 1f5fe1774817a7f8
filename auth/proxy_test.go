package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// multiSource forges tickets for alice from the service of each SPN.
type multiSource struct {
	svcs map[string]*krbtest.Service
	err  error

	mu    sync.Mutex
	asked []string
}

func (m *multiSource) ServiceTicket(_ context.Context, spn string) (*ticket.Ticket, error) {
	m.mu.Lock()
	m.asked = append(m.asked, spn)
	m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	svc, ok := m.svcs[spn]
	if !ok {
		return nil, fmt.Errorf("no service %s", spn)
	}
	return svc.NewTicket("alice")
}

// fakeProxy is a forward proxy that authenticates clients with Negotiate
// as Squid with negotiate_kerberos_auth does (RFC 7235 section 3.2, RFC
// 4559 section 4): 407 with "Proxy-Authenticate: Negotiate" to a request
// or CONNECT without a token that verifies; plain requests in absolute
// form forwarded without Proxy-Authorization; CONNECT answered 200 and
// tunnelled. Its reply token comes back in Proxy-Authenticate on the
// success, as RFC 4559 allows.
type fakeProxy struct {
	srv *httptest.Server
	acc *gss.Acceptor

	reply   string // "keep" (default), "none" or "corrupt" the reply token
	forever bool   // refuse every token
	closeOn bool   // close the connection after each 407
	basic   bool   // offer Basic only
	open    bool   // no authentication at all

	challenges, tokens, connects atomic.Int32
	// tokenOnConnect counts CONNECTs that carried an Authorization
	// header (the server's token, which must stay inside the tunnel).
	serverTokenSeen atomic.Int32
}

func newFakeProxy(t *testing.T, svc *krbtest.Service, configure func(*fakeProxy)) *fakeProxy {
	t.Helper()
	acc, err := gss.NewAcceptor(gss.AcceptorConfig{Keytab: svc.Keytab()})
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProxy{acc: acc}
	if configure != nil {
		configure(p)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// url names the proxy "localhost": its SPN, HTTP/localhost, differs from
// the servers' (HTTP/127.0.0.1).
func (p *fakeProxy) url() *url.URL {
	u, _ := url.Parse(strings.Replace(p.srv.URL, "127.0.0.1", "localhost", 1))
	return u
}

func (p *fakeProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connects.Add(1)
		if r.Header.Get("Authorization") != "" {
			p.serverTokenSeen.Add(1)
		}
	}
	var reply string
	if !p.open {
		ok := false
		if v, found := strings.CutPrefix(r.Header.Get("Proxy-Authorization"), "Negotiate "); found {
			p.tokens.Add(1)
			raw, err := base64.StdEncoding.DecodeString(v)
			if err == nil && !p.forever {
				var acc *gss.Accepted
				if acc, err = p.acc.Accept(raw); err == nil {
					ok = true
					reply = base64.StdEncoding.EncodeToString(acc.ReplyToken)
					if p.reply == "corrupt" {
						b := append([]byte(nil), acc.ReplyToken...)
						b[len(b)-3] ^= 0xff
						reply = base64.StdEncoding.EncodeToString(b)
					}
				}
			}
		}
		if !ok {
			p.challenges.Add(1)
			if p.basic {
				w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
			} else {
				w.Header().Set("Proxy-Authenticate", "Negotiate")
			}
			if p.closeOn {
				w.Header().Set("Connection", "close")
			}
			http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
	}
	if reply != "" && p.reply != "none" {
		w.Header().Set("Proxy-Authenticate", "Negotiate "+reply)
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	resp, err := (&http.Transport{}).RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *fakeProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() {
		_, _ = io.Copy(up, rw)
		up.Close()
	}()
	_ = rw.Flush()
	_, _ = io.Copy(conn, up)
	conn.Close()
}

// proxySetup is a server (HTTP/127.0.0.1, plain or TLS) reached through a
// fake proxy (HTTP/localhost), with a source holding tickets for both.
type proxySetup struct {
	proxy *fakeProxy
	srv   *httptest.Server
	src   *multiSource
	// proxyAuthAtServer counts requests that reached the server with a
	// Proxy-Authorization header.
	proxyAuthAtServer atomic.Int32
}

func newProxySetup(t *testing.T, useTLS bool, configure func(*fakeProxy)) *proxySetup {
	t.Helper()
	svc := krbtest.NewService(t, "HTTP/127.0.0.1", realm)
	psvc := krbtest.NewService(t, "HTTP/localhost", realm)
	s := &proxySetup{src: &multiSource{svcs: map[string]*krbtest.Service{"HTTP/127.0.0.1": svc, "HTTP/localhost": psvc}}}
	inner := whoami()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			s.proxyAuthAtServer.Add(1)
		}
		inner.ServeHTTP(w, r)
	})
	s.srv = newAcceptorServer(t, svc, h, useTLS)
	s.proxy = newFakeProxy(t, psvc, configure)
	return s
}

func (s *proxySetup) client(t *testing.T, opts ...auth.Option) (*http.Client, *http.Transport) {
	t.Helper()
	base := s.srv.Client().Transport.(*http.Transport).Clone()
	base.Proxy = http.ProxyURL(s.proxy.url())
	tr, err := auth.NewTransport(base, append([]auth.Option{auth.WithCredentials(s.src), auth.WithConfig(testConfig(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, base
}

// TestProxyNegotiate: the proxy's 407 and the server's 401 are answered,
// each with a token for its own SPN; the proxy's token never reaches the
// server, the server's never reaches the proxy through CONNECT; the
// proxy's reply token is verified; once the proxy has asked, tokens go to
// it up front.
func TestProxyNegotiate(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			t.Parallel()
			s := newProxySetup(t, useTLS, nil)
			c, _ := s.client(t)
			for range 3 {
				resp, err := c.Get(s.srv.URL + "/")
				if err != nil {
					t.Fatal(err)
				}
				if m := decode(t, resp); resp.StatusCode != 200 || m["principal"] != "alice@"+realm {
					t.Fatalf("status %d, %v", resp.StatusCode, m)
				}
				c.CloseIdleConnections() // a new tunnel for each request
			}
			asked := strings.Join(s.src.asked, " ")
			if !strings.Contains(asked, "HTTP/localhost") || !strings.Contains(asked, "HTTP/127.0.0.1") {
				t.Errorf("SPNs asked: %s", asked)
			}
			if n := s.proxyAuthAtServer.Load(); n != 0 {
				t.Errorf("the server got Proxy-Authorization %d times", n)
			}
			if n := s.proxy.serverTokenSeen.Load(); n != 0 {
				t.Errorf("a CONNECT carried the server's token %d times", n)
			}
			// One 407 in all: later requests (and tunnels) carried a
			// token up front.
			if n := s.proxy.challenges.Load(); n != 1 {
				t.Errorf("%d challenges from the proxy, want 1", n)
			}
			if useTLS && s.proxy.connects.Load() != 4 {
				t.Errorf("%d CONNECTs, want 4 (407, then one per request)", s.proxy.connects.Load())
			}
		})
	}
}

// TestProxyFailures: a refused token, a reply token that does not verify
// and no ticket at all are *ProxyAuthError naming the proxy, bounded; a
// proxy that closes its connections after 407 is answered on a new one.
func TestProxyFailures(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		for _, c := range []struct {
			name      string
			configure func(*fakeProxy)
			noTicket  bool
			check     func(error) bool
		}{
			{"407 forever", func(p *fakeProxy) { p.forever = true }, false, func(err error) bool {
				return strings.Contains(err.Error(), "refused the Kerberos token")
			}},
			{"bad reply token", func(p *fakeProxy) { p.reply = "corrupt" }, false, func(err error) bool {
				return errors.Is(err, auth.ErrMutualAuthentication) && strings.Contains(err.Error(), "proxy's token does not verify")
			}},
			{"no ticket", nil, true, func(err error) bool { return strings.Contains(err.Error(), "no ticket here") }},
		} {
			t.Run(fmt.Sprintf("%s/tls=%t", c.name, useTLS), func(t *testing.T) {
				t.Parallel()
				s := newProxySetup(t, useTLS, c.configure)
				if c.noTicket {
					s.src.err = errors.New("no ticket here")
				}
				cl, _ := s.client(t)
				resp, err := cl.Get(s.srv.URL + "/")
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got %s, want an error", resp.Status)
				}
				var pe *auth.ProxyAuthError
				if !errors.As(err, &pe) || !errors.Is(err, auth.ErrProxyAuth) || pe.Proxy != "http://"+s.proxy.url().Host || !c.check(err) {
					t.Fatalf("error %v", err)
				}
				if n := s.proxy.tokens.Load(); n > 1 {
					t.Errorf("%d tokens sent to the proxy, want at most 1", n)
				}
				if s.proxyAuthAtServer.Load() != 0 {
					t.Error("the server got Proxy-Authorization")
				}
			})
		}
		t.Run(fmt.Sprintf("closes after 407/tls=%t", useTLS), func(t *testing.T) {
			t.Parallel()
			s := newProxySetup(t, useTLS, func(p *fakeProxy) { p.closeOn = true })
			cl, _ := s.client(t)
			resp, err := cl.Get(s.srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			if m := decode(t, resp); m["principal"] != "alice@"+realm {
				t.Fatalf("%v", m)
			}
		})
	}
}

// TestProxyNotNegotiate: a proxy that asks for Basic only gets no token
// (plain http: its 407 is returned; https: net/http's CONNECT error); a
// proxy that lets CONNECT through without asking gets no token; without a
// proxy, a 407 from the server itself is returned and nothing is sent in
// Proxy-Authorization.
func TestProxyNotNegotiate(t *testing.T) {
	t.Parallel()
	s := newProxySetup(t, false, func(p *fakeProxy) { p.basic = true })
	c, _ := s.client(t)
	resp, err := c.Get(s.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusProxyAuthRequired || s.proxy.tokens.Load() != 0 {
		t.Fatalf("Basic proxy: %s, %d tokens", resp.Status, s.proxy.tokens.Load())
	}
	s = newProxySetup(t, true, func(p *fakeProxy) { p.basic = true })
	c, _ = s.client(t)
	if _, err := c.Get(s.srv.URL + "/"); err == nil || errors.Is(err, auth.ErrProxyAuth) || s.proxy.tokens.Load() != 0 {
		t.Fatalf("Basic proxy over CONNECT: %v, %d tokens", err, s.proxy.tokens.Load())
	}

	s = newProxySetup(t, true, func(p *fakeProxy) { p.open = true })
	c, _ = s.client(t)
	resp, err = c.Get(s.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.proxy.tokens.Load() != 0 || s.proxy.connects.Load() != 1 {
		t.Fatalf("open proxy: %s, %d tokens, %d CONNECTs", resp.Status, s.proxy.tokens.Load(), s.proxy.connects.Load())
	}

	var proxyAuth atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			proxyAuth.Add(1)
		}
		w.Header().Set("Proxy-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	t.Cleanup(srv.Close)
	tr, err := auth.NewTransport(nil, auth.WithCredentials(s.src), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusProxyAuthRequired || proxyAuth.Load() != 0 {
		t.Fatalf("direct 407: %s, Proxy-Authorization sent %d times", resp.Status, proxyAuth.Load())
	}
}

// TestProxyConnectTransportKeepsCallerHooks: the caller's CONNECT hooks
// still run, first.
func TestProxyConnectTransportKeepsCallerHooks(t *testing.T) {
	t.Parallel()
	s := newProxySetup(t, true, nil)
	base := s.srv.Client().Transport.(*http.Transport).Clone()
	base.Proxy = http.ProxyURL(s.proxy.url())
	var seen []int
	var mu sync.Mutex
	base.GetProxyConnectHeader = func(context.Context, *url.URL, string) (http.Header, error) {
		return http.Header{"X-Caller": {"1"}}, nil
	}
	base.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, req *http.Request, resp *http.Response) error {
		mu.Lock()
		defer mu.Unlock()
		if req.Header.Get("X-Caller") == "1" {
			seen = append(seen, resp.StatusCode)
		}
		return nil
	}
	tr, err := auth.NewTransport(base, auth.WithCredentials(s.src), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(s.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[407 200]" {
		t.Fatalf("caller's hook saw %v", seen)
	}
	if base.GetProxyConnectHeader == nil || base.OnProxyConnectResponse == nil {
		t.Fatal("the caller's transport lost its hooks")
	}
	// Requests went through a clone; the caller's transport is still the
	// one the Transport reports wrapping.
	if tr.WrappedRoundTripper() != base {
		t.Fatal("WrappedRoundTripper is not the transport given")
	}
}

// newAcceptorServer serves h behind our acceptor for svc.
func newAcceptorServer(t *testing.T, svc *krbtest.Service, h http.Handler, useTLS bool) *httptest.Server {
	t.Helper()
	a, err := acceptor.New(svc.Keytab())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Wrap(h))
	srv.Config.ConnContext = a.ConnContext
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// proxiedReply answers a plain-http request through a proxy: 407 with
// Negotiate to a request without Proxy-Authorization, then a 200 whose
// Proxy-Authenticate the fuzzer chooses.
type proxiedReply struct {
	challenge, reply string
	tr               *http.Transport
}

func (p proxiedReply) WrappedRoundTripper() http.RoundTripper { return p.tr }

func (p proxiedReply) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("x")), Request: r, ProtoMajor: 1, ProtoMinor: 1}
	if r.Header.Get("Proxy-Authorization") == "" {
		resp.StatusCode = http.StatusProxyAuthRequired
		resp.Header["Proxy-Authenticate"] = strings.Split(p.challenge, "\n")
		return resp, nil
	}
	resp.Header["Proxy-Authenticate"] = strings.Split(p.reply, "\n")
	return resp, nil
}

// FuzzProxyAuthenticate feeds hostile Proxy-Authenticate headers (huge,
// repeated lines, bad base64) to the 407 and the proxy verification
// paths: a response or an error, never a panic, at most two sends.
func FuzzProxyAuthenticate(f *testing.F) {
	for _, s := range [][2]string{
		{"Negotiate", "Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg=="},
		{"Negotiate\nNegotiate\nNegotiate", "Negotiate !!!"},
		{"Basic realm=\"Negotiate\"", "Negotiate YII="},
		{"NTLM, Negotiate " + strings.Repeat("A", 100000), "Negotiate " + strings.Repeat("QUJD", 30000)},
		{strings.Repeat("Negotiate, ", 5000), strings.Repeat("Negotiate x,", 1000)},
	} {
		f.Add(s[0], s[1])
	}
	psvc := krbtest.NewService(f, "HTTP/proxy.example.test", realm)
	svc := krbtest.NewService(f, "HTTP/fuzz.example.test", realm)
	src := &multiSource{svcs: map[string]*krbtest.Service{"HTTP/proxy.example.test": psvc, "HTTP/fuzz.example.test": svc}}
	proxy, _ := url.Parse("http://proxy.example.test:3128")
	f.Fuzz(func(t *testing.T, challenge, reply string) {
		base := proxiedReply{challenge: challenge, reply: reply, tr: &http.Transport{Proxy: http.ProxyURL(proxy)}}
		tr, err := auth.NewTransport(base, auth.WithCredentials(src), auth.WithConfig(testConfig(t)), auth.WithMutualAuthentication(auth.MutualDisabled))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "http://fuzz.example.test/", nil)
		resp, err := tr.RoundTrip(req)
		if (resp == nil) == (err == nil) {
			t.Fatalf("RoundTrip returned response %v and error %v", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	})
}
