package wsman_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
	"github.com/krbhttp/krbhttp/wsman"
	"github.com/krbhttp/krbhttp/wsman/encryption"
)

// The encrypted path is tested without a KDC: a keytab made here, a
// ticket for it forged with gokrb5, our acceptor in front of fakeShell.

const testRealm = "WSMAN.TEST"

// kerberos returns a service keytab for HTTP/<host> and a ticket of
// alice's for it.
func kerberos(t *testing.T, host string) (*keytab.Keytab, *ticket.Ticket) {
	t.Helper()
	spn := "HTTP/" + host
	kt := keytab.New()
	if err := kt.AddEntry(spn, testRealm, "service password", time.Now(), 2, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice")
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_HST, spn)
	now := time.Now().UTC().Truncate(time.Second)
	tkt, key, err := messages.NewTicket(cname, testRealm, sname, testRealm, types.NewKrbFlags(), kt,
		etypeID.AES256_CTS_HMAC_SHA1_96, 2, now, now, now.Add(time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return kt, &ticket.Ticket{Ticket: tkt, SessionKey: key, Client: cname, ClientRealm: testRealm, AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour)}
}

// ticketSource hands out one ticket, whatever the SPN.
type ticketSource struct{ tkt *ticket.Ticket }

func (s ticketSource) ServiceTicket(context.Context, string) (*ticket.Ticket, error) {
	return s.tkt, nil
}

// withTicket is the auth configuration of the tests: tkt for every
// service, and SPNs taken from the URL as they are.
func withTicket(t testing.TB, tkt *ticket.Ticket) wsman.Option {
	t.Helper()
	conf, err := krb5conf.Parse("[libdefaults]\n default_realm = " + testRealm + "\n dns_canonicalize_hostname = false\n rdns = false\n")
	if err != nil {
		t.Fatal(err)
	}
	return wsman.WithAuth(auth.WithCredentials(ticketSource{tkt}), auth.WithConfig(conf))
}

// encServer is fakeShell behind our acceptor with Windows' message
// encryption. Its switches make the next reply misbehave.
type encServer struct {
	f         *fakeShell
	tamper    atomic.Bool // flip a bit of the next encrypted reply
	clear     atomic.Bool // send the next reply unencrypted
	tooLarge  atomic.Bool // answer the next request 413
	bigHeader atomic.Bool // add an 8 KiB header to the next reply
	setups    atomic.Int32
	encrypted atomic.Int32 // encrypted requests served

	mu        sync.Mutex
	remotes   map[string]bool // client addresses of the connections
	sessions  map[*gss.SecurityContext]*encryption.Session
	protocols map[string]bool
}

func (s *encServer) handler(t *testing.T) http.Handler {
	s.sessions, s.protocols, s.remotes = map[*gss.SecurityContext]*encryption.Session{}, map[string]bool{}, map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.remotes[r.RemoteAddr] = true
		s.mu.Unlock()
		id, _ := acceptor.IdentityFromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		if len(body) == 0 {
			s.setups.Add(1)
			return
		}
		if r.Header.Get("Authorization") != "" || !id.ConnectionAuth {
			t.Error("an encrypted request carried its own token")
		}
		if s.tooLarge.Swap(false) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		ct := r.Header.Get("Content-Type")
		_, params, _ := mime.ParseMediaType(ct)
		s.mu.Lock()
		sess := s.sessions[id.Context]
		if sess == nil {
			var err error
			if sess, err = encryption.NewSession(id.Context, params["protocol"]); err != nil {
				t.Error(err)
			}
			s.sessions[id.Context] = sess
		}
		s.protocols[params["protocol"]] = true
		s.mu.Unlock()
		envelope, err := sess.Decrypt(ct, body)
		if err != nil {
			t.Errorf("decrypting a request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.encrypted.Add(1)
		status, reply := s.f.serve(t, envelope)
		if s.clear.Swap(false) {
			w.Header().Set("Content-Type", encryption.SOAPContentType)
			w.WriteHeader(status)
			_, _ = w.Write(reply)
			return
		}
		ct, out, err := sess.Encrypt(reply)
		if err != nil {
			t.Error(err)
		}
		if s.bigHeader.Swap(false) {
			w.Header().Set("X-Padding", strings.Repeat("p", 8<<10))
		}
		if s.tamper.Swap(false) {
			out[len(out)-40] ^= 0x04
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(out)
	})
}

// encEndpoint is a running encServer.
type encEndpoint struct {
	url  string
	pool *x509.CertPool // over https, the server's certificate
	tkt  *ticket.Ticket
}

// serveEncrypted serves an encServer over http (or https with channel
// bindings required).
func serveEncrypted(t *testing.T, s *encServer, useTLS bool) *encEndpoint {
	t.Helper()
	// The acceptor needs the certificate of the started server; until it
	// is made, nothing connects.
	var (
		mu    sync.Mutex
		a     *acceptor.Authenticator
		inner http.Handler
	)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := inner
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	ts.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		mu.Lock()
		defer mu.Unlock()
		return a.ConnContext(ctx, c)
	}
	if useTLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	kt, tkt := kerberos(t, "127.0.0.1")
	ep := &encEndpoint{url: ts.URL + "/wsman", tkt: tkt}
	aopts := []acceptor.Option{acceptor.WithConnectionBound(true)}
	if useTLS {
		aopts = append(aopts, acceptor.WithChannelBinding(acceptor.BindingStrict, ts.Certificate()))
		ep.pool = x509.NewCertPool()
		ep.pool.AddCert(ts.Certificate())
	}
	mu.Lock()
	defer mu.Unlock()
	var err error
	if a, err = acceptor.New(kt, aopts...); err != nil {
		t.Fatal(err)
	}
	inner = a.Wrap(s.handler(t))
	return ep
}

// client returns a client of ep that encrypts, over base (nil for a
// default one; over https the server's certificate is trusted).
func (ep *encEndpoint) client(t *testing.T, base *http.Transport, opts ...wsman.Option) *wsman.Client {
	t.Helper()
	if base == nil {
		base = &http.Transport{}
	}
	if ep.pool != nil {
		base.TLSClientConfig = &tls.Config{RootCAs: ep.pool, MinVersion: tls.VersionTLS12}
	}
	all := []wsman.Option{withTicket(t, ep.tkt), wsman.WithEncryption(wsman.EncryptAlways), wsman.WithBaseTransport(base)}
	c, err := wsman.NewClient(ep.url, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startEncrypted serves an encServer and returns a client that encrypts.
func startEncrypted(t *testing.T, s *encServer, useTLS bool, opts ...wsman.Option) *wsman.Client {
	t.Helper()
	return serveEncrypted(t, s, useTLS).client(t, nil, opts...)
}

func TestEncryptedRun(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		tls      bool
		scheme   auth.Scheme
		protocol string
	}{
		{"http/Negotiate", false, auth.SchemeNegotiate, encryption.ProtocolSPNEGO},
		{"http/Kerberos", false, auth.SchemeKerberos, encryption.ProtocolKerberos},
		{"https/Negotiate", true, auth.SchemeNegotiate, encryption.ProtocolSPNEGO},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := &encServer{f: &fakeShell{waitForEnd: true, receive: func(n int) (int, string) {
				if n == 0 {
					return http.StatusOK, receiveOutput("secret output", "")
				}
				return http.StatusOK, receiveDone(5)
			}}}
			client := startEncrypted(t, s, c.tls, wsman.WithAuth(auth.WithScheme(c.scheme)))
			var out strings.Builder
			code, err := client.Run(t.Context(), wsman.RunRequest{Command: "cat", Stdin: strings.NewReader("in"), Stdout: &out})
			if err != nil || code != 5 || out.String() != "secret output" || string(s.f.stdin) != "in" {
				t.Fatalf("exit %d, %v, stdout %q, stdin %q", code, err, out.String(), s.f.stdin)
			}
			// Stdin and output flow at once, so two connections at most,
			// each set up once; every message after a setup rode on it.
			setups, requests := s.setups.Load(), s.encrypted.Load()
			if setups < 1 || setups > 2 || requests < 5 || len(s.protocols) != 1 || !s.protocols[c.protocol] {
				t.Fatalf("%d setups for %d requests, protocols %v", setups, requests, s.protocols)
			}
		})
	}
}

// TestEncryptedFailures: a tampered reply, a reply in the clear and a 413
// each fail the request with a typed error and cost the connection; the
// next request sets up a new one and succeeds. Faults arrive encrypted and
// readable.
func TestEncryptedFailures(t *testing.T) {
	t.Parallel()
	s := &encServer{f: &fakeShell{receive: func(int) (int, string) {
		return http.StatusInternalServerError, faultBody(2150858843, "w:InvalidSelectors", "no such shell")
	}}}
	c := startEncrypted(t, s, false)
	ctx := t.Context()
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		arm   *atomic.Bool
		check func(error) bool
	}{
		{"tampered", &s.tamper, func(err error) bool {
			var te *wsman.TamperedError
			return errors.Is(err, wsman.ErrTampered) && errors.As(err, &te) && errors.Is(err, gss.ErrIntegrity)
		}},
		{"clear", &s.clear, func(err error) bool { return errors.Is(err, wsman.ErrTampered) }},
		{"413", &s.tooLarge, func(err error) bool { return errors.Is(err, wsman.ErrEnvelopeTooLarge) }},
	}
	for _, tc := range cases {
		before := s.setups.Load()
		tc.arm.Store(true)
		if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err == nil || !tc.check(err) {
			t.Fatalf("%s: %T %v", tc.name, err, err)
		}
		if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
			t.Fatalf("%s: the next request: %v", tc.name, err)
		}
		if s.setups.Load() != before+1 {
			t.Fatalf("%s: %d new setups, want 1", tc.name, s.setups.Load()-before)
		}
	}
	_, err := c.Receive(ctx, "SHELL-1", "CMD-1")
	var f *wsman.Fault
	if !errors.As(err, &f) || f.Message != "no such shell" || f.StatusCode != 500 {
		t.Fatalf("encrypted fault: %v", err)
	}
}

// TestEncryptedSetupNeedsMutualAuthentication: a server that does not
// prove itself on the setup POST is refused before any message is sent.
func TestEncryptedSetupNeedsMutualAuthentication(t *testing.T) {
	t.Parallel()
	var messages atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			messages.Add(1)
		}
	}))
	t.Cleanup(ts.Close)
	_, tkt := kerberos(t, "127.0.0.1")
	c, err := wsman.NewClient(ts.URL+"/wsman", withTicket(t, tkt))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateShell(t.Context(), wsman.ShellOptions{})
	var mutual *auth.MutualAuthenticationError
	if !errors.As(err, &mutual) || messages.Load() != 0 {
		t.Fatalf("%v; %d messages sent", err, messages.Load())
	}
}

// closeWatcher is a dialer whose connections report their closing.
type closeWatcher struct {
	dials  atomic.Int32
	closed chan struct{} // one value per connection closed
}

type watchedConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *watchedConn) Close() error {
	c.once.Do(func() { c.closed <- struct{}{} })
	return c.Conn.Close()
}

func (w *closeWatcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	w.dials.Add(1)
	return &watchedConn{Conn: conn, closed: w.closed}, nil
}

// TestEncryptedSessionOutlivesItsConnection: when the connection of an
// idle session is closed (here by the base transport's IdleConnTimeout),
// the next message is not sent over a new connection without a context:
// the session's transport refuses to dial (ErrConnectionLost), and the
// message goes in a new session, set up on a new connection. The server
// checks that every encrypted message came on an authenticated connection.
func TestEncryptedSessionOutlivesItsConnection(t *testing.T) {
	t.Parallel()
	s := &encServer{f: &fakeShell{}}
	w := &closeWatcher{closed: make(chan struct{}, 8)}
	c := serveEncrypted(t, s, false).client(t, &http.Transport{DialContext: w.dial, IdleConnTimeout: 300 * time.Millisecond})
	ctx := t.Context()
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the idle connection was never closed")
	}
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
		t.Fatalf("the message after the connection closed: %v", err)
	}
	if s.setups.Load() < 2 || w.dials.Load() != s.setups.Load() || s.encrypted.Load() != 2 {
		t.Fatalf("%d setups, %d dials, %d encrypted messages; want a new session on a new connection", s.setups.Load(), w.dials.Load(), s.encrypted.Load())
	}
}

// TestEncryptedResponseHeaderLimit: the base transport's header limit
// applies to encrypted replies too.
func TestEncryptedResponseHeaderLimit(t *testing.T) {
	t.Parallel()
	s := &encServer{f: &fakeShell{}}
	c := serveEncrypted(t, s, false).client(t, &http.Transport{MaxResponseHeaderBytes: 4 << 10})
	ctx := t.Context()
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
		t.Fatal(err)
	}
	s.bigHeader.Store(true)
	_, err := c.CreateShell(ctx, wsman.ShellOptions{})
	var te *wsman.TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "header") {
		t.Fatalf("a reply with 8 KiB of headers over a 4 KiB limit: %v", err)
	}
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
		t.Fatalf("the next request: %v", err)
	}
}

// connectProxy is an HTTP proxy that only tunnels (CONNECT), one upstream
// connection per client connection, as Squid does for https.
func connectProxy(t *testing.T) (*url.URL, *sync.Map) {
	t.Helper()
	var tunnels sync.Map // the upstream connections' local addresses
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Store(up.LocalAddr().String(), true)
		w.WriteHeader(http.StatusOK)
		down, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() {
			_, _ = io.Copy(up, rw)
			up.Close()
		}()
		_, _ = io.Copy(down, up)
		down.Close()
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, &tunnels
}

// TestEncryptedThroughProxy: encrypted sessions use the base transport's
// proxy (here CONNECT for https, with message encryption inside TLS).
func TestEncryptedThroughProxy(t *testing.T) {
	t.Parallel()
	proxy, tunnels := connectProxy(t)
	s := &encServer{f: &fakeShell{}}
	c := serveEncrypted(t, s, true).client(t, &http.Transport{Proxy: http.ProxyURL(proxy)})
	var out strings.Builder
	code, err := c.Run(t.Context(), wsman.RunRequest{Command: "whoami", Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	// Every connection the server saw came through the proxy (Run may
	// start a second session for output while stdin is sent).
	s.mu.Lock()
	defer s.mu.Unlock()
	for remote := range s.remotes {
		if _, ok := tunnels.Load(remote); !ok {
			t.Errorf("a connection from %s bypassed the proxy", remote)
		}
	}
	if len(s.remotes) == 0 {
		t.Fatal("no connection reached the server")
	}
}
