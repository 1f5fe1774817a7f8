package restapis_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
)

// newHDFS serves the namenode and datanode on two plain test servers and
// returns a client of the namenode.
func newHDFS(t *testing.T) (*webhdfs.ClientWithResponses, *httptest.Server) {
	t.Helper()
	dn := httptest.NewUnstartedServer(nil)
	nnHandler, dnHandler := restapis.NewWebHDFS("http://" + dn.Listener.Addr().String())
	dn.Config.Handler = dnHandler
	dn.Start()
	t.Cleanup(dn.Close)
	nn := httptest.NewServer(nnHandler)
	t.Cleanup(nn.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := webhdfs.NewWithClient(nn.URL, &http.Client{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return c, dn
}

// ok returns r once the call succeeded with a 2xx status, for
// ok(c.Call(...))(t).
func ok[R webhdfsResponse](r R, err error) func(*testing.T) R {
	return func(t *testing.T) R {
		t.Helper()
		if err == nil {
			err = webhdfs.CheckResponse(r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

type webhdfsResponse interface {
	StatusCode() int
	Status() string
	GetJSONDefault() *webhdfs.Error
}

// wantException fails the test unless err is a RemoteException of the
// given class and status.
func wantException(t *testing.T, r webhdfsResponse, err error, status int, exception string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var re *webhdfs.ResponseError
	if !errors.As(webhdfs.CheckResponse(r), &re) || re.StatusCode != status || re.Body == nil ||
		re.Body.RemoteException.Exception != exception {
		t.Fatalf("got %v, want %d %s", webhdfs.CheckResponse(r), status, exception)
	}
}

func TestWebHDFSFiles(t *testing.T) {
	t.Parallel()
	c, _ := newHDFS(t)
	ctx := t.Context()
	put := func(p string, params webhdfs.PutParams, body string) (*webhdfs.PutResponse, error) {
		if body == "" {
			return c.PutWithBodyWithResponse(ctx, p, &params, "", nil)
		}
		return c.PutWithBodyWithResponse(ctx, p, &params, "application/octet-stream", strings.NewReader(body))
	}
	// CREATE makes missing parents; the redirect reaches the datanode.
	created := ok(put("a/b/f", webhdfs.PutParams{Op: webhdfs.CREATE, Permission: new("600")}, "0123456789"))(t)
	if created.StatusCode() != http.StatusCreated || !strings.HasSuffix(created.HTTPResponse.Header.Get("Location"), "/a/b/f") {
		t.Fatalf("CREATE: %s, Location %q", created.Status(), created.HTTPResponse.Header.Get("Location"))
	}
	st := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GETFILESTATUS}))(t).JSON200.FileStatus
	if st.Type != webhdfs.FILE || st.Length != 10 || st.Permission != "600" || st.Owner != "dr.who" || st.Replication != 3 {
		t.Errorf("GETFILESTATUS: %+v", st)
	}
	dir := ok(c.GetWithResponse(ctx, "a", &webhdfs.GetParams{Op: webhdfs.GETFILESTATUS}))(t).JSON200.FileStatus
	if dir.Type != webhdfs.DIRECTORY || dir.Permission != "755" || *dir.ChildrenNum != 1 {
		t.Errorf("parent made by CREATE: %+v", dir)
	}
	r, err := put("a/b/f", webhdfs.PutParams{Op: webhdfs.CREATE}, "again")
	wantException(t, r, err, http.StatusForbidden, "FileAlreadyExistsException")
	ok(put("a/b/f", webhdfs.PutParams{Op: webhdfs.CREATE, Overwrite: new(true)}, "0123456789"))(t)

	// APPEND, then OPEN whole and in part.
	ok(c.PostWithBodyWithResponse(ctx, "a/b/f", &webhdfs.PostParams{Op: webhdfs.APPEND}, "application/octet-stream", strings.NewReader("abc")))(t)
	whole := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.OPEN}))(t)
	part := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.OPEN, Offset: new(int64(8)), Length: new(int64(3))}))(t)
	if string(whole.Body) != "0123456789abc" || string(part.Body) != "89a" {
		t.Errorf("OPEN: %q, part %q", whole.Body, part.Body)
	}
	g, err := c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.OPEN, Offset: new(int64(99))})
	wantException(t, g, err, http.StatusForbidden, "IOException")
	g, err = c.GetWithResponse(ctx, "a/b", &webhdfs.GetParams{Op: webhdfs.OPEN})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")
	g, err = c.GetWithResponse(ctx, "nope", &webhdfs.GetParams{Op: webhdfs.GETFILESTATUS})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")
	p, err := c.PostWithBodyWithResponse(ctx, "nope", &webhdfs.PostParams{Op: webhdfs.APPEND}, "application/octet-stream", strings.NewReader("x"))
	wantException(t, p, err, http.StatusNotFound, "FileNotFoundException")

	// A file in the way of a directory.
	r, err = put("a/b/f/g", webhdfs.PutParams{Op: webhdfs.MKDIRS}, "")
	wantException(t, r, err, http.StatusForbidden, "ParentNotDirectoryException")
	r, err = put("a/b/f/g", webhdfs.PutParams{Op: webhdfs.CREATE}, "x")
	wantException(t, r, err, http.StatusForbidden, "ParentNotDirectoryException")
}

func TestWebHDFSNamespace(t *testing.T) {
	t.Parallel()
	c, _ := newHDFS(t)
	ctx := t.Context()
	mkdirs := func(p string) {
		t.Helper()
		r := ok(c.PutWithBodyWithResponse(ctx, p, &webhdfs.PutParams{Op: webhdfs.MKDIRS, Permission: new("1777")}, "", nil))(t)
		if !*r.JSON200.Boolean {
			t.Fatalf("MKDIRS %s: false", p)
		}
	}
	rename := func(src, dst string) bool {
		t.Helper()
		r := ok(c.PutWithBodyWithResponse(ctx, src, &webhdfs.PutParams{Op: webhdfs.RENAME, Destination: &dst}, "", nil))(t)
		return *r.JSON200.Boolean
	}
	mkdirs("x/y/z")
	mkdirs("x/y/z") // again: true
	mkdirs("w")
	ok(c.PutWithBodyWithResponse(ctx, "x/y/z/f", &webhdfs.PutParams{Op: webhdfs.CREATE}, "application/octet-stream", strings.NewReader("12345")))(t)

	sum := ok(c.GetWithResponse(ctx, "x", &webhdfs.GetParams{Op: webhdfs.GETCONTENTSUMMARY}))(t).JSON200.ContentSummary
	if sum.DirectoryCount != 3 || sum.FileCount != 1 || sum.Length != 5 || sum.SpaceConsumed != 15 || sum.Quota != -1 {
		t.Errorf("GETCONTENTSUMMARY: %+v", sum)
	}
	for src, dst := range map[string]string{"nope": "/q", "x/y": "/x/y/z/inside", "w": "/x/y/z/f", "x/y/z/f": "/missing/f"} {
		if rename(src, dst) {
			t.Errorf("RENAME %s -> %s: true, want false", src, dst)
		}
	}
	if !rename("x/y", "/w") { // into the existing directory
		t.Fatal("RENAME x/y -> /w (a directory): false")
	}
	list := ok(c.GetWithResponse(ctx, "w/y/z", &webhdfs.GetParams{Op: webhdfs.LISTSTATUS}))(t).JSON200.FileStatuses.FileStatus
	if len(list) != 1 || list[0].PathSuffix != "f" || list[0].Length != 5 {
		t.Errorf("LISTSTATUS after RENAME: %+v", list)
	}
	root := ok(c.GetWithResponse(ctx, "", &webhdfs.GetParams{Op: webhdfs.LISTSTATUS}))(t).JSON200.FileStatuses.FileStatus
	if len(root) != 2 || root[0].PathSuffix != "w" || root[1].PathSuffix != "x" || root[0].Permission != "1777" {
		t.Errorf("LISTSTATUS /: %+v", root)
	}

	d, err := c.DeleteWithResponse(ctx, "w", &webhdfs.DeleteParams{Op: webhdfs.DELETE})
	wantException(t, d, err, http.StatusForbidden, "PathIsNotEmptyDirectoryException")
	for _, tc := range []struct {
		path      string
		recursive bool
		want      bool
	}{{"w", true, true}, {"w", true, false}, {"", true, false}} {
		r := ok(c.DeleteWithResponse(ctx, tc.path, &webhdfs.DeleteParams{Op: webhdfs.DELETE, Recursive: &tc.recursive}))(t)
		if r.JSON200.Boolean != tc.want {
			t.Errorf("DELETE %q: %v, want %v", tc.path, r.JSON200.Boolean, tc.want)
		}
	}
}

func TestWebHDFSRequestErrors(t *testing.T) {
	t.Parallel()
	c, dn := newHDFS(t)
	ctx := t.Context()
	r, err := c.PutWithBodyWithResponse(ctx, "d", &webhdfs.PutParams{Op: webhdfs.MKDIRS, Permission: new("888")}, "", nil)
	wantException(t, r, err, http.StatusBadRequest, "IllegalArgumentException")
	r, err = c.PutWithBodyWithResponse(ctx, "d", &webhdfs.PutParams{Op: webhdfs.RENAME}, "", nil)
	wantException(t, r, err, http.StatusBadRequest, "IllegalArgumentException")
	g, err := c.GetWithResponse(ctx, "d", &webhdfs.GetParams{Op: "MKDIRS"})
	wantException(t, g, err, http.StatusBadRequest, "IllegalArgumentException")

	// noredirect: the datanode URL in the body, and nothing created yet.
	nr := ok(c.PutWithBodyWithResponse(ctx, "d/f", &webhdfs.PutParams{Op: webhdfs.CREATE, Noredirect: new(true)}, "", nil))(t)
	if loc := nr.JSON200.Location; loc == nil || !strings.HasPrefix(*loc, dn.URL+"/webhdfs/v1/d/f?") || !strings.Contains(*loc, "namenoderpcaddress=") {
		t.Fatalf("noredirect Location %v", nr.JSON200.Location)
	}
	g, err = c.GetWithResponse(ctx, "d/f", &webhdfs.GetParams{Op: webhdfs.GETFILESTATUS})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")

	// The datanode takes only redirected requests.
	resp, err := http.Post(dn.URL+"/webhdfs/v1/d/f?op=APPEND", "application/octet-stream", bytes.NewReader([]byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("datanode without namenoderpcaddress: %s", resp.Status)
	}
}
