package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

const realm = "EXAMPLE.TEST"

// testConfig keeps SPNs exactly "HTTP/<URL host>", as the lab does.
func testConfig(t testing.TB) *krb5conf.Config {
	t.Helper()
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = " + realm +
		"\n dns_canonicalize_hostname = false\n rdns = false\n")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeSource forges tickets for alice with the service's keytab and
// records which SPNs were asked for.
type fakeSource struct {
	t   testing.TB
	svc *krbtest.Service
	err error

	mu    sync.Mutex
	asked []string
}

func (f *fakeSource) ServiceTicket(_ context.Context, spn string) (*ticket.Ticket, error) {
	f.mu.Lock()
	f.asked = append(f.asked, spn)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.svc.NewTicket("alice")
}

func (f *fakeSource) spns() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

// lab is an httptest server behind our acceptor, with a client transport
// holding forged tickets for it.
type lab struct {
	srv      *httptest.Server
	src      *fakeSource
	requests atomic.Int32 // requests that reached the server, authenticated or not
}

func newLab(t testing.TB, h http.Handler, opts ...acceptor.Option) *lab {
	t.Helper()
	l := &lab{}
	l.srv = httptest.NewUnstartedServer(nil)
	host := "127.0.0.1"
	svc := krbtest.NewService(t, "HTTP/"+host, realm)
	a, err := acceptor.New(svc.Keytab(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = whoami()
	}
	inner := a.Wrap(h)
	l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.requests.Add(1)
		inner.ServeHTTP(w, r)
	})
	l.srv.Config.ConnContext = a.ConnContext
	l.srv.Start()
	t.Cleanup(l.srv.Close)
	l.src = &fakeSource{t: t, svc: svc}
	return l
}

func (l *lab) client(t testing.TB, opts ...auth.Option) *http.Client {
	t.Helper()
	opts = append([]auth.Option{auth.WithCredentials(l.src), auth.WithConfig(testConfig(t))}, opts...)
	tr, err := auth.NewTransport(l.srv.Client().Transport, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}
}

// whoami answers with the principal and echoes the request body.
func whoami() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		principal := ""
		if id != nil {
			principal = id.Principal
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"principal": principal, "method": r.Method, "body": string(body),
			"content_type": r.Header.Get("Content-Type"), "cookie": r.Header.Get("Cookie"),
		})
	})
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decoding response (status %d): %v", resp.StatusCode, err)
	}
	return m
}

func TestChallengeAnsweredAndVerified(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	resp, err := l.client(t).Get(l.srv.URL + "/whoami")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := decode(t, resp)["principal"]; got != "alice@"+realm {
		t.Fatalf("server saw %v, want alice@%s", got, realm)
	}
	if got := l.requests.Load(); got != 2 {
		t.Fatalf("%d requests reached the server, want 2 (401 then authenticated)", got)
	}
	if got := l.src.spns(); len(got) != 1 || got[0] != "HTTP/127.0.0.1" {
		t.Fatalf("SPNs asked %q, want [HTTP/127.0.0.1]", got)
	}
}

func TestEveryMethodAndBodyKind(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	c := l.client(t)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "report.txt")
	_, _ = fw.Write([]byte("file contents"))
	_ = mw.Close()
	form := url.Values{"a": {"1"}, "b": {"two words"}}.Encode()

	type bodyKind struct {
		name, contentType, want string
		body                    func() io.Reader
	}
	kinds := []bodyKind{
		{"none", "", "", func() io.Reader { return nil }},
		{"bytes", "application/octet-stream", "\x00\x01binary", func() io.Reader { return bytes.NewReader([]byte("\x00\x01binary")) }},
		{"json", "application/json", `{"k":"v"}`, func() io.Reader { return strings.NewReader(`{"k":"v"}`) }},
		{"form", "application/x-www-form-urlencoded", form, func() io.Reader { return strings.NewReader(form) }},
		{"multipart", mw.FormDataContentType(), mp.String(), func() io.Reader { return bytes.NewReader(mp.Bytes()) }},
		// A reader without GetBody: replayed from the bounded buffer.
		{"stream", "text/plain", "streamed body", func() io.Reader { return io.MultiReader(strings.NewReader("streamed "), strings.NewReader("body")) }},
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	for _, m := range methods {
		for _, k := range kinds {
			if m == "HEAD" && k.name != "none" {
				continue
			}
			t.Run(m+"/"+k.name, func(t *testing.T) {
				req, err := http.NewRequest(m, l.srv.URL+"/echo", k.body())
				if err != nil {
					t.Fatal(err)
				}
				if k.contentType != "" {
					req.Header.Set("Content-Type", k.contentType)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if m == "HEAD" {
					resp.Body.Close()
					return
				}
				got := decode(t, resp)
				if got["method"] != m || got["body"] != k.want || got["content_type"] != k.contentType {
					t.Fatalf("server saw %v", got)
				}
			})
		}
	}
}

func TestNoCredentialsReturns401WithReason(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	l.src.err = fmt.Errorf("no ticket: %w", credentials.ErrNoCredentials)
	resp, err := l.client(t).Get(l.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	reason := auth.ResponseError(resp)
	var ne *auth.NegotiateError
	if !errors.As(reason, &ne) || !errors.Is(reason, credentials.ErrNoCredentials) {
		t.Fatalf("ResponseError = %v, want a NegotiateError wrapping ErrNoCredentials", reason)
	}
	if ne.SPN != "HTTP/127.0.0.1" || !strings.Contains(reason.Error(), "HTTP/127.0.0.1") {
		t.Fatalf("reason %q does not name the SPN", reason)
	}
	if got := l.requests.Load(); got != 1 {
		t.Fatalf("%d requests reached the server, want 1", got)
	}
}

func TestServerThatAlwaysChallengesIsBounded(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	svc := krbtest.NewService(t, "HTTP/127.0.0.1", realm)
	tr, err := auth.NewTransport(nil, auth.WithCredentials(&fakeSource{t: t, svc: svc}), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || hits.Load() != 2 {
		t.Fatalf("status %d after %d sends, want 401 after 2", resp.StatusCode, hits.Load())
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	c := l.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Post(l.srv.URL, "text/plain", strings.NewReader(fmt.Sprint(i)))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprintf(`"body":"%d"`, i)) {
				errs <- fmt.Errorf("request %d: status %d body %s", i, resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
