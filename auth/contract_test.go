package auth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// countingBody records how often it is closed.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error { b.closes.Add(1); return nil }

// recordingTransport answers 401 Negotiate to requests without
// Authorization and 200 otherwise, and keeps what it received.
type recordingTransport struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.seen = append(rt.seen, r)
	rt.mu.Unlock()
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: r, ProtoMajor: 1, ProtoMinor: 1}
	if r.Header.Get("Authorization") == "" {
		resp.StatusCode = 401
		resp.Header.Set("WWW-Authenticate", "Negotiate")
	}
	return resp, nil
}

func TestCallerRequestIsNeverMutatedAndBodiesClosed(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, "HTTP/example.test", realm)
	rt := &recordingTransport{}
	tr, err := auth.NewTransport(rt, auth.WithCredentials(&fakeSource{t: t, svc: svc}), auth.WithConfig(testConfig(t)),
		auth.WithMutualAuthentication(auth.MutualOptional))
	if err != nil {
		t.Fatal(err)
	}
	body := &countingBody{Reader: strings.NewReader("payload")}
	req, _ := http.NewRequest("POST", "http://example.test/x", body)
	req.Header.Set("X-Keep", "1")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("Authorization") != "" || len(req.Header) != 1 || req.Host != "example.test" {
		t.Fatalf("caller's request changed: %v host %q", req.Header, req.Host)
	}
	if body.closes.Load() < 1 {
		t.Fatal("the caller's body was never closed")
	}
	if len(rt.seen) != 2 || rt.seen[0] == req || rt.seen[1] == req {
		t.Fatalf("base saw %d requests (want 2 clones, never the caller's)", len(rt.seen))
	}
	if rt.seen[1].Header.Get("X-Keep") != "1" || !strings.HasPrefix(rt.seen[1].Header.Get("Authorization"), "Negotiate ") {
		t.Fatalf("retry headers %v", rt.seen[1].Header)
	}
}

func TestEarlyFailureClosesBody(t *testing.T) {
	t.Parallel()
	tr, err := auth.NewTransport(&recordingTransport{})
	if err != nil {
		t.Fatal(err)
	}
	body := &countingBody{Reader: strings.NewReader("x")}
	req := &http.Request{Method: "POST", Header: http.Header{}, Body: body}
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("a request without URL succeeded")
	}
	if body.closes.Load() != 1 {
		t.Fatalf("body closed %d times, want 1", body.closes.Load())
	}
}

func TestPreemptiveAlwaysSendsTokenOnEveryRequest(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	c := l.client(t, auth.WithPreemptive(auth.PreemptiveAlways))
	for range 3 {
		resp, err := c.Get(l.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := l.requests.Load(); got != 3 {
		t.Fatalf("%d requests reached the server, want 3 (no 401s)", got)
	}
}

func TestPreemptiveAfterChallenge(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	c := l.client(t, auth.WithPreemptive(auth.PreemptiveAfterChallenge))
	for range 3 {
		resp, err := c.Get(l.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := l.requests.Load(); got != 4 {
		t.Fatalf("%d requests reached the server, want 4 (one 401, then tokens up front)", got)
	}
}

func TestConnectionBoundAuthentication(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil, acceptor.WithConnectionBound(true))
	c := l.client(t)
	get := func() {
		t.Helper()
		resp, err := c.Get(l.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if id := decode(t, resp)["principal"]; id != "alice@"+realm {
			t.Fatalf("server saw %v", id)
		}
	}
	get()
	get() // same keep-alive connection: no challenge, no token, no mutual failure
	if got := l.requests.Load(); got != 3 {
		t.Fatalf("%d requests reached the server, want 3 (401, authenticated, then passed on the connection)", got)
	}
	c.CloseIdleConnections()
	get() // a new connection authenticates afresh
	if got := l.requests.Load(); got != 5 {
		t.Fatalf("%d requests reached the server, want 5", got)
	}
}

func TestHostnameOverrideAndService(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	c := l.client(t, auth.WithHostnameOverride("Web.Example.Test"), auth.WithService("WSMAN"),
		auth.WithMutualAuthentication(auth.MutualOptional))
	resp, err := c.Get(l.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := l.src.spns(); len(got) == 0 || got[0] != "WSMAN/web.example.test" {
		t.Fatalf("SPNs asked %q, want WSMAN/web.example.test", got)
	}
}

func TestSPNFromEachRequestURL(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, "HTTP/x", realm)
	src := &fakeSource{t: t, svc: svc}
	tr, err := auth.NewTransport(&recordingTransport{}, auth.WithCredentials(src), auth.WithConfig(testConfig(t)),
		auth.WithMutualAuthentication(auth.MutualDisabled))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://WWW.Example.TEST:8080/a", "http://[::1]:9/b", "https://host.example.test./c"} {
		req, _ := http.NewRequest("GET", u, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{"HTTP/www.example.test", "HTTP/::1", "HTTP/host.example.test"}
	if got := src.spns(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("SPNs %q, want %q", got, want)
	}
}

// TestCookiesFromThe401AreSentOnTheRetry: the cookies a 401 sets reach the
// retry under net/http's cookie rules: only those whose Path and Domain
// match, and one the server expires removes the
// caller's cookie of that name.
func TestCookiesFromThe401AreSentOnTheRetry(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	inner := l.srv.Config.Handler
	l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			for _, c := range []*http.Cookie{
				{Name: "route", Value: "node7"},
				{Name: "api", Value: "1", Path: "/api"},
				{Name: "elsewhere", Value: "1", Path: "/other"},
				{Name: "secure", Value: "1", Secure: true},
				{Name: "foreign", Value: "1", Domain: "other.example.test"},
				{Name: "gone", Value: "", MaxAge: -1},
			} {
				http.SetCookie(w, c)
			}
		}
		inner.ServeHTTP(w, r)
	})
	req, _ := http.NewRequest("GET", l.srv.URL+"/api/v1", nil)
	req.AddCookie(&http.Cookie{Name: "mine", Value: "1"})
	req.AddCookie(&http.Cookie{Name: "gone", Value: "stale"})
	resp, err := l.client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cookie, _ := decode(t, resp)["cookie"].(string)
	got := map[string]bool{}
	for _, c := range (&http.Request{Header: http.Header{"Cookie": {cookie}}}).Cookies() {
		got[c.Name+"="+c.Value] = true
	}
	// Like browsers, cookiejar treats loopback as a secure origin, so the
	// Secure cookie comes along here (see TestRetryHeaderCookieRules for
	// plain http to another host).
	want := map[string]bool{"route=node7": true, "api=1": true, "secure=1": true, "mine=1": true}
	if len(got) != len(want) {
		t.Fatalf("retry carried cookies %q, want exactly %v", cookie, want)
	}
	for c := range want {
		if !got[c] {
			t.Fatalf("retry carried cookies %q, want %s among them", cookie, c)
		}
	}
	if req.Header.Get("Cookie") != "mine=1; gone=stale" {
		t.Fatalf("caller's request changed: %q", req.Header.Get("Cookie"))
	}
}

func TestSameHostRedirectGetsAFreshToken(t *testing.T) {
	t.Parallel()
	// The acceptor's replay cache refuses a replayed AP-REQ, so a 200 at the
	// end proves the redirected request carried a new token.
	mux := http.NewServeMux()
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusFound))
	mux.Handle("/new", whoami())
	l := newLab(t, mux)
	resp, err := l.client(t).Get(l.srv.URL + "/old")
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp)["principal"]; got != "alice@"+realm || resp.Request.URL.Path != "/new" {
		t.Fatalf("after redirect: principal %v at %s", got, resp.Request.URL.Path)
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	l := newLab(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", l.srv.URL, nil)
	if _, err := l.client(t).Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
}

func TestHTTP2(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, "HTTP/127.0.0.1", realm)
	a, err := acceptor.New(svc.Keytab(), acceptor.WithConnectionBound(true))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Wrap(whoami()))
	srv.EnableHTTP2 = true
	srv.Config.ConnContext = a.ConnContext
	srv.StartTLS()
	t.Cleanup(srv.Close)
	src := &fakeSource{t: t, svc: svc}

	t.Run("default base stays on HTTP/1.1", func(t *testing.T) {
		base := srv.Client().Transport.(*http.Transport).Clone()
		var p http.Protocols
		p.SetHTTP1(true)
		base.Protocols = &p
		base.TLSClientConfig.NextProtos = nil // as in http.DefaultTransport, which auth clones
		tr, err := auth.NewTransport(base, auth.WithCredentials(src), auth.WithConfig(testConfig(t)))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 1 {
			t.Fatalf("protocol %s, want HTTP/1.1", resp.Proto)
		}
	})
	t.Run("an HTTP/2 base authenticates each response", func(t *testing.T) {
		base := srv.Client().Transport.(*http.Transport).Clone()
		base.ForceAttemptHTTP2 = true
		base.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, NextProtos: []string{"h2"}}
		tr, err := auth.NewTransport(base, auth.WithCredentials(src), auth.WithConfig(testConfig(t)))
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: tr}
		for i := range 2 {
			resp, err := c.Get(srv.URL)
			if err != nil {
				// The second request passes the connection-bound acceptor
				// without a token: over HTTP/2 that is not trusted.
				if i == 1 && errors.Is(err, auth.ErrMutualAuthentication) {
					return
				}
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.ProtoMajor != 2 {
				t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
			}
		}
		t.Fatal("an HTTP/2 response without a token was trusted")
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *strings.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

func (countingReader) Close() error { return nil }

// A large body that gets challenged is sent once: the first attempt asks
// for 100-continue and the 401 comes before the body.
func TestLargeBodyCrossesTheNetworkOnce(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	payload := strings.Repeat("x", 1<<20)
	var read atomic.Int64
	req, _ := http.NewRequest("PUT", l.srv.URL, nil)
	req.ContentLength = int64(len(payload))
	req.GetBody = func() (io.ReadCloser, error) { return countingReader{strings.NewReader(payload), &read}, nil }
	req.Body, _ = req.GetBody()
	base := l.srv.Client().Transport.(*http.Transport).Clone()
	base.ExpectContinueTimeout = time.Second // as in http.DefaultTransport
	tr, err := auth.NewTransport(base, auth.WithCredentials(l.src), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, resp)
	if got["body"] != payload {
		t.Fatalf("server got %d bytes", len(got["body"].(string)))
	}
	if n := read.Load(); n != int64(len(payload)) {
		t.Fatalf("%d body bytes were read for a %d-byte body, want it sent once", n, len(payload))
	}
}
