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

// The WebHDFS server with security off (Hadoop's "simple"
// authentication: the user is the user.name parameter), through the SDK
// client. The secure cluster (SPNEGO, cookie, delegation tokens) runs
// against a real KDC in the integration tests.

// asUser adds user.name to every request that has none, as a client of an
// insecure cluster does.
type asUser struct {
	name string
	rt   http.RoundTripper
}

func (a asUser) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	if !q.Has("user.name") && !q.Has("namenoderpcaddress") {
		r = r.Clone(r.Context())
		q.Set("user.name", a.name)
		r.URL.RawQuery = q.Encode()
	}
	return a.rt.RoundTrip(r)
}

// hdfsLab is an insecure namenode and datanode on two plain test servers.
type hdfsLab struct {
	*restapis.WebHDFS
	nn, dn *httptest.Server
}

func newHDFSLab(t *testing.T, cfg restapis.WebHDFSConfig) *hdfsLab {
	t.Helper()
	dn := httptest.NewUnstartedServer(nil)
	cfg.DataNodeURL = "http://" + dn.Listener.Addr().String()
	w, err := restapis.NewWebHDFS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dn.Config.Handler = w.DataNode
	dn.Start()
	t.Cleanup(dn.Close)
	nn := httptest.NewServer(w.NameNode)
	t.Cleanup(nn.Close)
	return &hdfsLab{WebHDFS: w, nn: nn, dn: dn}
}

// client is a client of the lab acting as user.
func (l *hdfsLab) client(t *testing.T, user string) *webhdfs.ClientWithResponses {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := webhdfs.NewWithClient(l.nn.URL, &http.Client{Transport: asUser{user, tr}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newHDFS is a lab and a client acting as the superuser.
func newHDFS(t *testing.T) (*webhdfs.ClientWithResponses, *httptest.Server) {
	t.Helper()
	l := newHDFSLab(t, restapis.WebHDFSConfig{})
	return l.client(t, "hdfs"), l.dn
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
	created := ok(put("a/b/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Permission: new("600")}, "0123456789"))(t)
	if created.StatusCode() != http.StatusCreated || created.HTTPResponse.Header.Get("Location") != "hdfs://localhost:8020/a/b/f" {
		t.Fatalf("CREATE: %s, Location %q", created.Status(), created.HTTPResponse.Header.Get("Location"))
	}
	st := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS}))(t).JSON200.FileStatus
	if st.Type != webhdfs.FileTypeFILE || st.Length != 10 || st.Permission != "600" || st.Owner != "hdfs" ||
		st.Group != "supergroup" || st.Replication != 3 || st.BlockSize != 128<<20 {
		t.Errorf("GETFILESTATUS: %+v", st)
	}
	dir := ok(c.GetWithResponse(ctx, "a", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS}))(t).JSON200.FileStatus
	if dir.Type != webhdfs.FileTypeDIRECTORY || dir.Permission != "755" || *dir.ChildrenNum != 1 || dir.AccessTime != 0 {
		t.Errorf("parent made by CREATE: %+v", dir)
	}
	r, err := put("a/b/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "again")
	wantException(t, r, err, http.StatusForbidden, "FileAlreadyExistsException")
	ok(put("a/b/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Overwrite: new(true)}, "0123456789"))(t)
	r, err = put("x/y/f", webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Createparent: new(false)}, "z")
	wantException(t, r, err, http.StatusNotFound, "FileNotFoundException")

	// APPEND, then OPEN whole and in part.
	ok(c.PostWithBodyWithResponse(ctx, "a/b/f", &webhdfs.PostParams{Op: webhdfs.PostOpAPPEND}, "application/octet-stream", strings.NewReader("abc")))(t)
	whole := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN}))(t)
	part := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN, Offset: new(int64(8)), Length: new(int64(3))}))(t)
	if string(whole.Body) != "0123456789abc" || string(part.Body) != "89a" {
		t.Errorf("OPEN: %q, part %q", whole.Body, part.Body)
	}
	g, err := c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN, Offset: new(int64(99))})
	wantException(t, g, err, http.StatusForbidden, "EOFException")
	g, err = c.GetWithResponse(ctx, "a/b", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")
	g, err = c.GetWithResponse(ctx, "nope", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")
	p, err := c.PostWithBodyWithResponse(ctx, "nope", &webhdfs.PostParams{Op: webhdfs.PostOpAPPEND}, "application/octet-stream", strings.NewReader("x"))
	wantException(t, p, err, http.StatusNotFound, "FileNotFoundException")

	// A file in the way of a directory.
	r, err = put("a/b/f/g", webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "")
	wantException(t, r, err, http.StatusForbidden, "ParentNotDirectoryException")
	r, err = put("a/b/f/g", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "x")
	wantException(t, r, err, http.StatusForbidden, "ParentNotDirectoryException")

	// CONCAT and TRUNCATE.
	ok(put("a/b/g", webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "XYZ"))(t)
	ok(c.PostWithBodyWithResponse(ctx, "a/b/f", &webhdfs.PostParams{Op: webhdfs.PostOpCONCAT, Sources: new("/a/b/g")}, "", nil))(t)
	tr := ok(c.PostWithBodyWithResponse(ctx, "a/b/f", &webhdfs.PostParams{Op: webhdfs.PostOpTRUNCATE, Newlength: new(int64(11))}, "", nil))(t)
	if tr.JSON200 == nil || !tr.JSON200.Boolean {
		t.Errorf("TRUNCATE: %+v", tr.JSON200)
	}
	if got := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN}))(t).Body; string(got) != "0123456789a" {
		t.Errorf("after CONCAT and TRUNCATE: %q", got)
	}
	g, err = c.GetWithResponse(ctx, "a/b/g", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")
	tp, err := c.PostWithBodyWithResponse(ctx, "a/b/f", &webhdfs.PostParams{Op: webhdfs.PostOpTRUNCATE, Newlength: new(int64(99))}, "", nil)
	wantException(t, tp, err, http.StatusBadRequest, "IllegalArgumentException")

	// GETFILECHECKSUM is redirected to the datanode, which computes it.
	sum := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILECHECKSUM}))(t).JSON200.FileChecksum
	if sum == nil || sum.Algorithm != "MD5-of-0MD5-of-512CRC32C" || sum.Length != 28 || len(sum.Bytes) != 56 {
		t.Errorf("GETFILECHECKSUM: %+v", sum)
	}
	locs := ok(c.GetWithResponse(ctx, "a/b/f", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILEBLOCKLOCATIONS}))(t).JSON200.BlockLocations
	if locs == nil || len(locs.BlockLocation) != 1 || locs.BlockLocation[0].Length != 11 || locs.BlockLocation[0].StorageTypes[0] != webhdfs.StorageTypeDISK {
		t.Errorf("GETFILEBLOCKLOCATIONS: %+v", locs)
	}
}

func TestWebHDFSNamespace(t *testing.T) {
	t.Parallel()
	c, _ := newHDFS(t)
	ctx := t.Context()
	mkdirs := func(p string) {
		t.Helper()
		r := ok(c.PutWithBodyWithResponse(ctx, p, &webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS, Permission: new("1777")}, "", nil))(t)
		if !r.JSON200.Boolean {
			t.Fatalf("MKDIRS %s: false", p)
		}
	}
	rename := func(src, dst string) bool {
		t.Helper()
		r := ok(c.PutWithBodyWithResponse(ctx, src, &webhdfs.PutParams{Op: webhdfs.PutOpRENAME, Destination: &dst}, "", nil))(t)
		return r.JSON200.Boolean
	}
	mkdirs("x/y/z")
	mkdirs("x/y/z") // again: true
	mkdirs("w")
	ok(c.PutWithBodyWithResponse(ctx, "x/y/z/f", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "application/octet-stream", strings.NewReader("12345")))(t)

	sum := ok(c.GetWithResponse(ctx, "x", &webhdfs.GetParams{Op: webhdfs.GetOpGETCONTENTSUMMARY}))(t).JSON200.ContentSummary
	if sum.DirectoryCount != 3 || sum.FileCount != 1 || sum.Length != 5 || sum.SpaceConsumed != 15 || sum.Quota != -1 || sum.SpaceQuota != -1 {
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
	list := ok(c.GetWithResponse(ctx, "w/y/z", &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS}))(t).JSON200.FileStatuses.FileStatus
	if len(list) != 1 || list[0].PathSuffix != "f" || list[0].Length != 5 {
		t.Errorf("LISTSTATUS after RENAME: %+v", list)
	}
	root := ok(c.GetWithResponse(ctx, "", &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS}))(t).JSON200.FileStatuses.FileStatus
	var names []string
	for _, st := range root {
		names = append(names, st.PathSuffix)
	}
	if strings.Join(names, ",") != "tmp,user,w,x" || root[2].Permission != "1777" {
		t.Errorf("LISTSTATUS /: %v, %+v", names, root)
	}
	batch := ok(c.GetWithResponse(ctx, "", &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUSBATCH, StartAfter: new("user")}))(t).JSON200.DirectoryListing
	if batch == nil || len(batch.PartialListing.FileStatuses.FileStatus) != 2 || batch.PartialListing.FileStatuses.FileStatus[0].PathSuffix != "w" || batch.RemainingEntries != 0 {
		t.Errorf("LISTSTATUS_BATCH after user: %+v", batch)
	}
	// RENAME with OVERWRITE (rename2) answers nothing, and replaces.
	ok(c.PutWithBodyWithResponse(ctx, "w/g", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE}, "application/octet-stream", strings.NewReader("g")))(t)
	over := webhdfs.PutParamsRenameoptionsOVERWRITE
	rn := ok(c.PutWithBodyWithResponse(ctx, "w/g", &webhdfs.PutParams{Op: webhdfs.PutOpRENAME, Destination: new("/w/y/z/f"), Renameoptions: &over}, "", nil))(t)
	if rn.JSON200 != nil {
		t.Errorf("RENAME with renameoptions answered %+v, want an empty 200", rn.JSON200)
	}

	d, err := c.DeleteWithResponse(ctx, "w", &webhdfs.DeleteParams{Op: webhdfs.DeleteOpDELETE})
	wantException(t, d, err, http.StatusForbidden, "PathIsNotEmptyDirectoryException")
	for _, tc := range []struct {
		path      string
		recursive bool
		want      bool
	}{{"w", true, true}, {"w", true, false}, {"", true, false}} {
		r := ok(c.DeleteWithResponse(ctx, tc.path, &webhdfs.DeleteParams{Op: webhdfs.DeleteOpDELETE, Recursive: &tc.recursive}))(t)
		if r.JSON200.Boolean != tc.want {
			t.Errorf("DELETE %q: %v, want %v", tc.path, r.JSON200.Boolean, tc.want)
		}
	}
}

func TestWebHDFSRequestErrors(t *testing.T) {
	t.Parallel()
	c, dn := newHDFS(t)
	ctx := t.Context()
	r, err := c.PutWithBodyWithResponse(ctx, "d", &webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS, Permission: new("888")}, "", nil)
	wantException(t, r, err, http.StatusBadRequest, "IllegalArgumentException")
	r, err = c.PutWithBodyWithResponse(ctx, "d", &webhdfs.PutParams{Op: webhdfs.PutOpRENAME}, "", nil)
	wantException(t, r, err, http.StatusBadRequest, "IllegalArgumentException")
	g, err := c.GetWithResponse(ctx, "d", &webhdfs.GetParams{Op: "MKDIRS"})
	wantException(t, g, err, http.StatusBadRequest, "IllegalArgumentException")
	if !strings.Contains(*g.JSONDefault.RemoteException.JavaClassName, "IllegalArgumentException") ||
		!strings.Contains(g.JSONDefault.RemoteException.Message, "GetOpParam.Op.MKDIRS") {
		t.Errorf("GET MKDIRS: %+v", g.JSONDefault.RemoteException)
	}
	g, err = c.GetWithResponse(ctx, "d", &webhdfs.GetParams{Op: webhdfs.GetOpGETXATTRS})
	wantException(t, g, err, http.StatusBadRequest, "IllegalArgumentException") // encoding is required

	// noredirect: the datanode URL in the body, and nothing created yet.
	nr := ok(c.PutWithBodyWithResponse(ctx, "d/f", &webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Noredirect: new(true)}, "", nil))(t)
	// Hadoop's query: op, the user (a delegation token when secure),
	// namenoderpcaddress, then the operation's parameters sorted by name.
	want := dn.URL + "/webhdfs/v1/d/f?op=CREATE&user.name=hdfs&namenoderpcaddress=localhost:8020&createflag=&createparent=true&overwrite=false"
	if loc := nr.JSON200.Location; loc == nil || *loc != want {
		t.Fatalf("noredirect Location %v, want %s", loc, want)
	}
	g, err = c.GetWithResponse(ctx, "d/f", &webhdfs.GetParams{Op: webhdfs.GetOpGETFILESTATUS})
	wantException(t, g, err, http.StatusNotFound, "FileNotFoundException")

	// The datanode takes only datanode operations.
	resp, err := http.Post(dn.URL+"/webhdfs/v1/d/f?op=CONCAT&namenoderpcaddress=localhost:8020", "application/octet-stream", bytes.NewReader([]byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !resp.Close {
		t.Errorf("datanode CONCAT: %s, connection closed %v", resp.Status, resp.Close)
	}
}
