package webhdfs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/sdk/apierror"
)

// seen is what a test server recorded of one request.
type seen struct {
	method, path, rawPath, query string
	contentType, expect          string
	contentLength                int64
	bodySum                      [32]byte
	bodyLen                      int
}

// recorder is a handler that records requests and answers with reply.
type recorder struct {
	mu    sync.Mutex
	reqs  []seen
	reply func(w http.ResponseWriter, r *http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := seen{
		method: r.Method, path: r.URL.Path, rawPath: r.URL.RawPath, query: r.URL.RawQuery,
		contentType: r.Header.Get("Content-Type"), expect: r.Header.Get("Expect"),
		contentLength: r.ContentLength,
	}
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if _, isDatanode := r.URL.Query()["namenoderpcaddress"]; isDatanode {
			b, _ := io.ReadAll(r.Body)
			s.bodySum, s.bodyLen = sha256.Sum256(b), len(b)
		}
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, s)
	rec.mu.Unlock()
	rec.reply(w, r)
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

// cluster is a namenode that redirects CREATE, APPEND and OPEN to a
// datanode, both plain HTTP test servers.
type cluster struct {
	namenode, datanode *recorder
	nn, dn             *httptest.Server
	protos             sync.Map // host: whether the client's transport got an HTTP/1.1 request
}

// protoRecorder notes, per host, whether its requests said HTTP/1.1, which
// http.Transport needs to honour Expect: 100-continue.
type protoRecorder struct {
	rt     http.RoundTripper
	protos *sync.Map
}

func (p protoRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	p.protos.Store(r.URL.Host, r.ProtoAtLeast(1, 1))
	return p.rt.RoundTrip(r)
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{}
	c.datanode = &recorder{reply: func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			w.Header().Set("Location", "hdfs://nn:8020"+strings.TrimPrefix(r.URL.Path, "/webhdfs/v1"))
			w.WriteHeader(http.StatusCreated)
		case http.MethodPost:
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/octet-stream")
			fmt.Fprint(w, "file data")
		}
	}}
	c.dn = httptest.NewServer(c.datanode)
	t.Cleanup(c.dn.Close)
	c.namenode = &recorder{reply: func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("op") {
		case "CREATE", "APPEND", "OPEN":
			http.Redirect(w, r, c.dn.URL+r.URL.Path+"?"+r.URL.RawQuery+"&namenoderpcaddress=nn:8020", http.StatusTemporaryRedirect)
		case "MKDIRS":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"boolean":true}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException","message":"File does not exist: /nope"}}`)
		}
	}}
	c.nn = httptest.NewServer(c.namenode)
	t.Cleanup(c.nn.Close)
	return c
}

func (c *cluster) client(t *testing.T) *ClientWithResponses {
	t.Helper()
	// A clone of the default transport, as auth.NewClient uses: it waits
	// for 100 Continue (ExpectContinueTimeout), which httptest's own
	// client does not.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cl, err := NewWithClient(c.nn.URL, &http.Client{Transport: protoRecorder{tr, &c.protos}})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func ptr[T any](v T) *T { return &v }

func TestPathsKeepTheirSlashes(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	cl := c.client(t)
	for _, p := range []string{"user/alice/new dir", "/user/alice/new dir"} {
		resp, err := cl.PutWithBodyWithResponse(t.Context(), p, &PutParams{Op: PutOpMKDIRS}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckResponse(resp); err != nil || resp.JSON200 == nil || !resp.JSON200.Boolean {
			t.Fatalf("MKDIRS %q: %v, %+v", p, err, resp.JSON200)
		}
	}
	for _, r := range c.namenode.requests() {
		if r.path != "/webhdfs/v1/user/alice/new dir" || r.rawPath != "" {
			t.Errorf("server saw path %q (raw %q), want /webhdfs/v1/user/alice/new dir", r.path, r.rawPath)
		}
		if r.contentType != "" || r.expect != "" {
			t.Errorf("bodyless MKDIRS sent Content-Type %q, Expect %q", r.contentType, r.expect)
		}
	}
}

func TestGatewayBasePath(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	cl, err := NewWithClient(c.nn.URL+"/gateway/default", c.nn.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutWithBodyWithResponse(t.Context(), "/a/b", &PutParams{Op: PutOpMKDIRS}, "", nil); err != nil {
		t.Fatal(err)
	}
	if r := c.namenode.requests(); len(r) != 1 || r[0].path != "/gateway/default/webhdfs/v1/a/b" || r[0].rawPath != "" {
		t.Errorf("server saw %+v, want /gateway/default/webhdfs/v1/a/b", r)
	}
}

func TestCreateFollowsTheRedirectWithTheBody(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	for name, body := range map[string]func() io.Reader{
		"bytes.Reader": func() io.Reader { return bytes.NewReader(data) },
		"FileBody":     func() io.Reader { return FileBody(f, int64(len(data))) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t)
			resp, err := c.client(t).PutWithBodyWithResponse(t.Context(), "tmp/f",
				&PutParams{Op: PutOpCREATE, Overwrite: ptr(true)}, "application/octet-stream", body())
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckResponse(resp); err != nil || resp.StatusCode() != http.StatusCreated {
				t.Fatalf("CREATE: %v (status %d)", err, resp.StatusCode())
			}
			if loc := resp.HTTPResponse.Header.Get("Location"); loc != "hdfs://nn:8020/tmp/f" {
				t.Errorf("Location %q", loc)
			}
			nn, dn := c.namenode.requests(), c.datanode.requests()
			if len(nn) != 1 || len(dn) != 1 {
				t.Fatalf("namenode saw %d requests, datanode %d; want 1 and 1", len(nn), len(dn))
			}
			if nn[0].expect != "100-continue" || dn[0].expect != "100-continue" {
				t.Errorf("Expect: namenode %q, datanode %q", nn[0].expect, dn[0].expect)
			}
			if h11, _ := c.protos.Load(strings.TrimPrefix(c.dn.URL, "http://")); h11 != true {
				t.Error("the redirected request did not say HTTP/1.1, so its transport ignored Expect: 100-continue")
			}
			if dn[0].method != http.MethodPut || dn[0].contentLength != int64(len(data)) ||
				dn[0].bodyLen != len(data) || dn[0].bodySum != sha256.Sum256(data) {
				t.Errorf("datanode got %s with Content-Length %d and %d bytes; want PUT of the %d bytes",
					dn[0].method, dn[0].contentLength, dn[0].bodyLen, len(data))
			}
		})
	}
}

func TestAppendAndOpenFollowTheRedirect(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	cl := c.client(t)
	app, err := cl.PostWithBodyWithResponse(t.Context(), "tmp/f", &PostParams{Op: PostOpAPPEND},
		"application/octet-stream", strings.NewReader("more"))
	if err != nil || CheckResponse(app) != nil {
		t.Fatalf("APPEND: %v, %v", err, CheckResponse(app))
	}
	open, err := cl.GetWithResponse(t.Context(), "tmp/f", &GetParams{Op: GetOpOPEN})
	if err != nil || CheckResponse(open) != nil || string(open.Body) != "file data" {
		t.Fatalf("OPEN: %v, %v, %q", err, CheckResponse(open), open.Body)
	}
	dn := c.datanode.requests()
	if len(dn) != 2 || dn[0].method != http.MethodPost || dn[0].bodyLen != 4 || dn[1].method != http.MethodGet {
		t.Fatalf("datanode saw %+v", dn)
	}
}

func TestCheckResponseCarriesTheRemoteException(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	resp, err := c.client(t).GetWithResponse(t.Context(), "nope", &GetParams{Op: GetOpGETFILESTATUS})
	if err != nil {
		t.Fatal(err)
	}
	err = CheckResponse(resp)
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 404 || re.Body == nil ||
		re.Body.RemoteException.Exception != "FileNotFoundException" {
		t.Fatalf("CheckResponse = %#v", err)
	}
	const want = "webhdfs: 404 Not Found: FileNotFoundException: File does not exist: /nope"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	plain := &ResponseError{API: "webhdfs", StatusCode: 401}
	if plain.Error() != "webhdfs: 401 Unauthorized" {
		t.Errorf("Error() = %q", plain.Error())
	}
}

func TestConstructorsValidate(t *testing.T) {
	t.Parallel()
	if _, err := New("namenode:9871"); err == nil || !strings.HasPrefix(err.Error(), "webhdfs: ") {
		t.Errorf("New with a URL without scheme: %v", err)
	}
	if _, err := New("https://nn:9871", auth.WithPassword("secret")); err == nil ||
		!strings.Contains(err.Error(), "WithPrincipal") {
		t.Errorf("New with an invalid auth option set: %v, want auth's error", err)
	}
	if _, err := NewWithClient("https://nn:9871", nil); err == nil {
		t.Error("NewWithClient(nil) succeeded")
	}
	if _, err := New("https://nn:9871", auth.WithMutualAuthentication(auth.MutualOptional)); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestTheCallersClientIsNotModified(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	stop := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc := &http.Client{CheckRedirect: stop}
	cl, err := NewWithClient(c.nn.URL, hc)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%p", hc.CheckRedirect) != fmt.Sprintf("%p", stop) {
		t.Error("NewWithClient replaced the caller's CheckRedirect")
	}
	// The caller's policy still applies: the 307 comes back.
	resp, err := cl.PutWithBodyWithResponse(t.Context(), "f", &PutParams{Op: PutOpCREATE}, "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != http.StatusTemporaryRedirect || resp.Headers307 == nil || !strings.HasPrefix(resp.Headers307.Location, c.dn.URL) {
		t.Fatalf("CREATE with redirects stopped: %s, %+v", resp.Status(), resp.Headers307)
	}
	var re *ResponseError
	if !errors.As(CheckResponse(resp), &re) || re.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("CheckResponse of an unfollowed redirect = %v", CheckResponse(resp))
	}
}

func TestRedirectLimit(t *testing.T) {
	t.Parallel()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(loop.Close)
	cl, err := NewWithClient(loop.URL, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetWithResponse(t.Context(), "f", &GetParams{Op: GetOpOPEN})
	if err == nil || !strings.Contains(err.Error(), "webhdfs: stopped after 10 redirects") {
		t.Errorf("endless redirects: %v", err)
	}
}

func TestFileBodyRewinds(t *testing.T) {
	t.Parallel()
	fb := FileBody(strings.NewReader("hello, world"), 5).(*fileBody)
	for range 2 {
		rc, err := fb.rewind()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		if string(b) != "hello" {
			t.Fatalf("read %q, want hello", b)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckResponseReachesTheKerberosCause: a 401 the transport could not
// answer (here: no credential cache) comes back from CheckResponse with
// the Kerberos reason, which errors.Is reaches; a mocked response without
// HTTPResponse is a clear error, not "webhdfs: 0 ".
func TestCheckResponseReachesTheKerberosCause(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	cl, err := New(srv.URL, auth.WithCCache("FILE:"+filepath.Join(t.TempDir(), "none")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.GetWithResponse(t.Context(), "x", &GetParams{Op: GetOpGETFILESTATUS})
	if err != nil {
		t.Fatal(err)
	}
	err = CheckResponse(resp)
	var neg *auth.NegotiateError
	if !errors.Is(err, credentials.ErrNoCredentials) || !errors.As(err, &neg) || !strings.Contains(err.Error(), "webhdfs: 401 Unauthorized: auth: ") {
		t.Fatalf("CheckResponse = %v", err)
	}
	for _, r := range []*GetResponse{{}, nil} {
		if err := CheckResponse(r); !errors.Is(err, apierror.ErrNoHTTPResponse) || !strings.Contains(err.Error(), "HTTPResponse") {
			t.Errorf("CheckResponse(%#v) = %v", r, err)
		}
	}
}
