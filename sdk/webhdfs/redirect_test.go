package webhdfs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
)

// headersSeen records the headers of each request a server got.
func headersSeen(t *testing.T, status int, location func(*http.Request) string) (*httptest.Server, *[]http.Header) {
	t.Helper()
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Clone())
		_, _ = io.Copy(io.Discard, r.Body)
		if location != nil {
			w.Header().Set("Location", location(r))
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestCrossOriginRedirectDropsCredentials(t *testing.T) {
	t.Parallel()
	dn, dnSeen := headersSeen(t, http.StatusCreated, nil)
	nn, nnSeen := headersSeen(t, http.StatusTemporaryRedirect, func(r *http.Request) string {
		return dn.URL + r.URL.RequestURI()
	})
	cl, err := NewWithClient(nn.URL, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	withCredentials := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Basic c2VjcmV0")
		req.Header.Set("Cookie", "session=1")
		return nil
	}
	resp, err := cl.PutWithBodyWithResponse(t.Context(), "f", &PutParams{Op: PutOpCREATE}, "application/octet-stream",
		strings.NewReader("data"), withCredentials)
	if err != nil || resp.StatusCode() != http.StatusCreated {
		t.Fatalf("CREATE: %v, %v", err, resp.Status())
	}
	if (*nnSeen)[0].Get("Authorization") == "" {
		t.Fatal("the namenode did not get the caller's header")
	}
	if h := (*dnSeen)[0]; h.Get("Authorization") != "" || h.Get("Cookie") != "" {
		t.Errorf("the datanode got Authorization %q and Cookie %q; credentials must not cross origins",
			h.Get("Authorization"), h.Get("Cookie"))
	}
}

func TestRedirectsNotFollowed(t *testing.T) {
	t.Parallel()
	target, seen := headersSeen(t, http.StatusOK, nil)
	for _, tc := range []struct {
		name   string
		status int
		method string
		body   io.Reader
	}{
		{"303 after POST", http.StatusSeeOther, http.MethodPost, strings.NewReader("x")},
		{"307 with an unrewindable body", http.StatusTemporaryRedirect, http.MethodPost, io.MultiReader(strings.NewReader("x"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := headersSeen(t, tc.status, func(*http.Request) string { return target.URL + "/webhdfs/v1/f" })
			d, err := newDoer(src.URL, &http.Client{})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, src.URL+"/webhdfs/v1/f?op=APPEND", tc.body)
			req.GetBody = nil
			resp, err := d.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want the unfollowed %d", resp.StatusCode, tc.status)
			}
		})
	}
	if len(*seen) != 0 {
		t.Errorf("the target got %d requests, want none", len(*seen))
	}
}

func TestRelativeRedirectStaysWithTheNamenode(t *testing.T) {
	t.Parallel()
	// HttpFS redirects CREATE to itself with data=true.
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("data") != "true" {
			http.Redirect(w, r, r.URL.Path+"?"+r.URL.RawQuery+"&data=true", http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if string(b) != "data" {
			t.Errorf("body %q", b)
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	cl, err := NewWithClient(srv.URL, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.PutWithBodyWithResponse(t.Context(), "f", &PutParams{Op: PutOpCREATE}, "application/octet-stream", strings.NewReader("data"))
	if err != nil || resp.StatusCode() != http.StatusCreated || len(queries) != 2 {
		t.Fatalf("CREATE: %v, %s, queries %q", err, resp.Status(), queries)
	}
}

func TestNewWithClientFindsTheBaseTransport(t *testing.T) {
	t.Parallel()
	base := http.DefaultTransport.(*http.Transport).Clone()
	tr, err := auth.NewTransport(base)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDoer("https://nn:9871", &http.Client{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	if direct, ok := d.direct.(*http.Client); !ok || direct.Transport != base {
		t.Errorf("datanode requests go through %#v, want the auth.Transport's base", d.direct)
	}
	d, err = newDoer("https://nn:9871", &http.Client{Transport: base})
	if err != nil {
		t.Fatal(err)
	}
	if d.direct != nil {
		t.Error("a client without an auth.Transport got a separate datanode transport")
	}
}

func TestAuthCookie(t *testing.T) {
	t.Parallel()
	cert := &x509.Certificate{Raw: []byte("leaf")}
	tlsState := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	response := func(setCookie string, state *tls.ConnectionState) *http.Response {
		req := &http.Request{Header: http.Header{}, URL: &url.URL{Scheme: "https", Host: "nn"}}
		return &http.Response{Header: http.Header{"Set-Cookie": {setCookie}}, TLS: state, Request: req}
	}
	var c authCookie
	// A cookie from a response the transport did not authenticate (here:
	// not from an auth.Transport at all) is not kept.
	c.update(response(`hadoop.auth="u=alice&p=alice@R&t=kerberos&e=1&s=x"; Path=/; HttpOnly`, tlsState))
	if c.get() != "" {
		t.Fatalf("kept a cookie from an unauthenticated response: %q", c.get())
	}
	c.value, c.chain = `hadoop.auth="u=alice"`, []*x509.Certificate{cert}
	sent := response("", tlsState)
	sent.Request.Header.Set("Cookie", c.value)
	if !c.vouches(sent) {
		t.Error("a response over the verified certificate to a request with the cookie is not vouched for")
	}
	if c.vouches(response("", nil)) {
		t.Error("a response without TLS is vouched for")
	}
	other := response("", &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Raw: []byte("other")}}}})
	other.Request.Header.Set("Cookie", c.value)
	if c.vouches(other) {
		t.Error("a response from another certificate is vouched for")
	}
	// The namenode's 401 clears the cookie.
	c.update(response("hadoop.auth=; Path=/; HttpOnly", tlsState))
	if c.get() != "" {
		t.Errorf("cookie %q kept after the server cleared it", c.get())
	}
}
