package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// serverCert makes a self-signed certificate for 127.0.0.1.
func serverCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tlsLab is our acceptor behind HTTPS, enforcing a channel-binding policy
// against the certificate boundTo (the server's own unless a test wants a
// mismatch). It counts HTTP requests and TLS handshakes.
type tlsLab struct {
	srv        *httptest.Server
	svc        *krbtest.Service
	requests   atomic.Int32
	handshakes atomic.Int32
}

func newTLSLab(t *testing.T, policy acceptor.ChannelBindingPolicy, boundTo *x509.Certificate) *tlsLab {
	t.Helper()
	l := &tlsLab{svc: krbtest.NewService(t, "HTTP/127.0.0.1", realm)}
	cert := serverCert(t)
	if boundTo == nil {
		boundTo = cert.Leaf
	}
	a, err := acceptor.New(l.svc.Keytab(), acceptor.WithChannelBinding(policy, boundTo))
	if err != nil {
		t.Fatal(err)
	}
	inner := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		fmt.Fprintf(w, "%s bound=%v", id.Principal, id.ChannelBound)
	}))
	l.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.requests.Add(1)
		inner.ServeHTTP(w, r)
	}))
	l.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			l.handshakes.Add(1)
			return nil, nil
		},
	}
	l.srv.StartTLS()
	t.Cleanup(l.srv.Close)
	return l
}

// client returns a client for the lab; wrap, when set, hides the base
// *http.Transport behind another RoundTripper.
func (l *tlsLab) client(t *testing.T, wrap bool, opts ...auth.Option) *http.Client {
	t.Helper()
	var base http.RoundTripper = l.srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(base.(*http.Transport).CloseIdleConnections)
	if wrap {
		base = roundTripFunc(base.RoundTrip)
	}
	tr, err := auth.NewTransport(base, append([]auth.Option{auth.WithCredentials(&fakeSource{t: t, svc: l.svc}), auth.WithConfig(testConfig(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

const boundAlice = "alice@" + realm + " bound=true"

// TestPreemptiveTokenCarriesChannelBindings: a token sent up front on the
// very first HTTPS request is bound to the server's certificate, learnt
// by one probe handshake, so a server that requires bindings answers it
// without a 401.
func TestPreemptiveTokenCarriesChannelBindings(t *testing.T) {
	t.Parallel()
	l := newTLSLab(t, acceptor.BindingStrict, nil)
	c := l.client(t, false, auth.WithPreemptive(auth.PreemptiveAlways))
	for i := range 3 {
		if status, got := fetch(t, c, l.srv.URL); status != 200 || got != boundAlice {
			t.Fatalf("request %d: %d %q", i, status, got)
		}
	}
	if n := l.requests.Load(); n != 3 {
		t.Fatalf("%d requests reached the server for 3 calls, want 3 (no 401)", n)
	}
	if n := l.handshakes.Load(); n != 2 {
		t.Fatalf("%d TLS handshakes, want 2: the probe and the keep-alive connection", n)
	}
}

// TestPreemptiveBurst: concurrent first requests share one probe and all
// go through without a 401.
func TestPreemptiveBurst(t *testing.T) {
	t.Parallel()
	l := newTLSLab(t, acceptor.BindingStrict, nil)
	c := l.client(t, false, auth.WithPreemptive(auth.PreemptiveAlways))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			resp, err := c.Get(l.srv.URL)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := l.requests.Load(); n != 8 {
		t.Fatalf("%d requests for 8 calls: some were challenged", n)
	}
}

// TestPreemptiveWithoutHTTPTransport: over a base that is not an
// *http.Transport no probe is made; the first token carries no bindings,
// the strict server challenges, the answer is bound, and later preemptive
// tokens use the certificate seen.
func TestPreemptiveWithoutHTTPTransport(t *testing.T) {
	t.Parallel()
	l := newTLSLab(t, acceptor.BindingStrict, nil)
	c := l.client(t, true, auth.WithPreemptive(auth.PreemptiveAlways))
	if status, got := fetch(t, c, l.srv.URL); status != 200 || got != boundAlice || l.requests.Load() != 2 {
		t.Fatalf("first: %d %q after %d requests, want 200 after 2", status, got, l.requests.Load())
	}
	if status, _ := fetch(t, c, l.srv.URL); status != 200 || l.requests.Load() != 3 {
		t.Fatalf("second: %d after %d requests, want 200 after 3", status, l.requests.Load())
	}
	if n := l.handshakes.Load(); n != 1 {
		t.Fatalf("%d handshakes, want 1 (no probe)", n)
	}
}

// wrapper hides an *http.Transport behind another RoundTripper but
// reports it, as client-go's wrappers do.
type wrapper struct{ base *http.Transport }

func (w wrapper) RoundTrip(r *http.Request) (*http.Response, error) { return w.base.RoundTrip(r) }
func (w wrapper) WrappedRoundTripper() http.RoundTripper            { return w.base }

// TestPreemptiveThroughWrapper: a base that wraps an *http.Transport and
// says so gets the probe, so the first token up front is bound.
func TestPreemptiveThroughWrapper(t *testing.T) {
	t.Parallel()
	l := newTLSLab(t, acceptor.BindingStrict, nil)
	base := l.srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	tr, err := auth.NewTransport(wrapper{base}, auth.WithCredentials(&fakeSource{t: t, svc: l.svc}), auth.WithConfig(testConfig(t)),
		auth.WithPreemptive(auth.PreemptiveAlways))
	if err != nil {
		t.Fatal(err)
	}
	if status, got := fetch(t, &http.Client{Transport: tr}, l.srv.URL); status != 200 || got != boundAlice || l.requests.Load() != 1 {
		t.Fatalf("%d %q after %d requests, want 200 after 1", status, got, l.requests.Load())
	}
}

func TestStrictChannelBinding(t *testing.T) {
	t.Parallel()
	other := serverCert(t).Leaf
	for _, c := range []struct {
		name    string
		boundTo *x509.Certificate
		policy  acceptor.ChannelBindingPolicy
		opts    []auth.Option
		status  int
		body    string
	}{
		{"strict, right certificate", nil, acceptor.BindingStrict, nil, 200, boundAlice},
		{"strict, other certificate", other, acceptor.BindingStrict, nil, 401, ""},
		{"strict, bindings off", nil, acceptor.BindingStrict, []auth.Option{auth.WithChannelBinding(false)}, 401, ""},
		{"relaxed, bindings off", nil, acceptor.BindingRelaxed, []auth.Option{auth.WithChannelBinding(false)}, 200, "alice@" + realm + " bound=false"},
		{"relaxed, other certificate", other, acceptor.BindingRelaxed, nil, 401, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newTLSLab(t, c.policy, c.boundTo)
			status, got := fetch(t, l.client(t, false, c.opts...), l.srv.URL)
			if status != c.status || (c.status == 200 && got != c.body) {
				t.Fatalf("got %d %q, want %d %q", status, got, c.status, c.body)
			}
		})
	}
}
