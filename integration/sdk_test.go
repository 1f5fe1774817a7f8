package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
	"github.com/krbhttp/krbhttp/sdk/ssrs"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
)

// The SDK clients against the IIS-like server serving the in-memory
// WebHDFS and report server: Negotiate with mutual authentication, over
// HTTPS with strict channel binding, IIS's connection-bound
// authentication. The namenode (and the report server) answer as
// https://localhost:P with HTTP/localhost's key; the datanode as
// https://127.0.0.1:Q with HTTP/127.0.0.1's key only, so that a redirect
// authenticated to the wrong service principal fails.

// countingListener counts the bytes its connections read, to tell how
// often a request body crossed the network.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, read: l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

// sdkServer is one IIS-like listener on loopback.
type sdkServer struct {
	URL  string
	host string
	read atomic.Int64 // bytes read from clients
	l    net.Listener
}

// listen opens a loopback listener whose URL names host.
func listen(t *testing.T, scheme, host string) *sdkServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sdkServer{host: host}
	s.l = countingListener{Listener: l, read: &s.read}
	s.URL = fmt.Sprintf("%s://%s:%d", scheme, host, l.Addr().(*net.TCPAddr).Port)
	return s
}

// serve runs the IIS-like server on s with the keys in keytabPath. With a
// CA it serves HTTPS with a certificate for its host from the CA, behind
// strict channel binding.
func (s *sdkServer) serve(t *testing.T, ca *testcert.CA, keytabPath string, mounts map[string]http.Handler) {
	t.Helper()
	kt, err := credentials.LoadKeytab(keytabPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := iis.Config{Keytab: kt, PersistentAuth: true, Mounts: mounts}
	if ca != nil {
		cert, err := ca.Server(s.host)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		cfg.ChannelBinding = acceptor.BindingStrict
	}
	srv, err := iis.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(s.l) }()
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		if err := <-done; err != nil {
			t.Errorf("serving %s: %v", s.URL, err)
		}
	})
}

// sdkLab is the namenode with the report server, and the datanode.
type sdkLab struct {
	ca                 *testcert.CA // nil: plain HTTP
	namenode, datanode *sdkServer
}

// startSDKLab starts the lab, over HTTPS when useTLS.
func startSDKLab(t *testing.T, useTLS bool) *sdkLab {
	t.Helper()
	lab := &sdkLab{}
	scheme := "http"
	var err error
	if useTLS {
		if lab.ca, err = testcert.NewCA(); err != nil {
			t.Fatal(err)
		}
		scheme = "https"
	}
	lab.namenode, lab.datanode = listen(t, scheme, "localhost"), listen(t, scheme, "127.0.0.1")
	nn, dn := restapis.NewWebHDFS(lab.datanode.URL)
	lab.datanode.serve(t, lab.ca, env.ipKeytab, map[string]http.Handler{restapis.WebHDFSPrefix + "/": dn})
	lab.namenode.serve(t, lab.ca, env.httpKeytab, map[string]http.Handler{
		restapis.WebHDFSPrefix + "/": nn,
		restapis.ReportsPrefix + "/": restapis.NewReports(),
	})
	return lab
}

// client is a Negotiate client trusting the lab's CA, with the given auth
// options on top of the realm's configuration.
func (lab *sdkLab) client(t *testing.T, opts ...auth.Option) *http.Client {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: lab.ca.Pool(), MinVersion: tls.VersionTLS12}
	tr, err := auth.NewTransport(base, append([]auth.Option{auth.WithConfig(env.conf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// sdkResponse is what every generated response has.
type sdkResponse interface {
	StatusCode() int
	Status() string
}

// check fails the test unless the call returned a 2xx response.
func check(t *testing.T, what string, r sdkResponse, err error) {
	t.Helper()
	if err == nil && (r.StatusCode() < 200 || r.StatusCode() > 299) {
		err = errors.New(r.Status())
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestSDKWebHDFSThroughNegotiate(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	user, password := newUser(t)
	hc := lab.client(t, auth.WithPrincipal(user), auth.WithPassword(password))
	c, err := webhdfs.NewWithClient(lab.namenode.URL, hc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	home := "user/" + user

	mk, err := c.PutWithBodyWithResponse(ctx, home+"/in", &webhdfs.PutParams{Op: webhdfs.MKDIRS}, "", nil)
	check(t, "MKDIRS", mk, err)
	if !*mk.JSON200.Boolean {
		t.Fatal("MKDIRS answered false")
	}

	// CREATE through the redirect: the 5 MB go to the datanode once.
	data := bytes.Repeat([]byte("webhdfs!"), 5<<20/8)
	nnBefore, dnBefore := lab.namenode.read.Load(), lab.datanode.read.Load()
	cr, err := c.PutWithBodyWithResponse(ctx, home+"/in/big.bin", &webhdfs.PutParams{Op: webhdfs.CREATE},
		"application/octet-stream", bytes.NewReader(data))
	check(t, "CREATE", cr, err)
	if cr.StatusCode() != http.StatusCreated {
		t.Fatalf("CREATE: %s, want 201 from the datanode", cr.Status())
	}
	nnRead, dnRead := lab.namenode.read.Load()-nnBefore, lab.datanode.read.Load()-dnBefore
	t.Logf("CREATE of %d bytes: the namenode read %d bytes, the datanode %d", len(data), nnRead, dnRead)
	if nnRead > 64<<10 || dnRead < int64(len(data)) || dnRead > int64(len(data))+64<<10 {
		t.Errorf("the namenode read %d bytes and the datanode %d; want the body once, at the datanode", nnRead, dnRead)
	}

	st, err := c.GetWithResponse(ctx, home+"/in/big.bin", &webhdfs.GetParams{Op: webhdfs.GETFILESTATUS})
	check(t, "GETFILESTATUS", st, err)
	if fs := st.JSON200.FileStatus; fs.Length != int64(len(data)) || fs.Owner != user || fs.Type != webhdfs.FILE {
		t.Errorf("GETFILESTATUS: %+v; want %d bytes owned by %s (the datanode's view of the client)", fs, len(data), user)
	}

	// CREATE from a file, without holding it in memory.
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fb, err := c.PutWithBodyWithResponse(ctx, home+"/in/copy.bin", &webhdfs.PutParams{Op: webhdfs.CREATE},
		"application/octet-stream", webhdfs.FileBody(f, int64(len(data))))
	check(t, "CREATE with FileBody", fb, err)

	ap, err := c.PostWithBodyWithResponse(ctx, home+"/in/big.bin", &webhdfs.PostParams{Op: webhdfs.APPEND},
		"application/octet-stream", strings.NewReader("tail"))
	check(t, "APPEND", ap, err)

	// OPEN through the redirect: 5 MB back from the datanode.
	op, err := c.GetWithResponse(ctx, home+"/in/big.bin", &webhdfs.GetParams{Op: webhdfs.OPEN})
	check(t, "OPEN", op, err)
	if want := append(bytes.Clone(data), "tail"...); sha256.Sum256(op.Body) != sha256.Sum256(want) {
		t.Errorf("OPEN returned %d bytes, want the %d written", len(op.Body), len(want))
	}

	ls, err := c.GetWithResponse(ctx, home+"/in", &webhdfs.GetParams{Op: webhdfs.LISTSTATUS})
	check(t, "LISTSTATUS", ls, err)
	if list := ls.JSON200.FileStatuses.FileStatus; len(list) != 2 || list[0].PathSuffix != "big.bin" || list[1].PathSuffix != "copy.bin" {
		t.Errorf("LISTSTATUS: %+v", list)
	}
	dst := "/" + home + "/archive"
	rn, err := c.PutWithBodyWithResponse(ctx, home+"/in", &webhdfs.PutParams{Op: webhdfs.RENAME, Destination: &dst}, "", nil)
	check(t, "RENAME", rn, err)
	cs, err := c.GetWithResponse(ctx, home, &webhdfs.GetParams{Op: webhdfs.GETCONTENTSUMMARY})
	check(t, "GETCONTENTSUMMARY", cs, err)
	if sum := cs.JSON200.ContentSummary; sum.FileCount != 2 || sum.DirectoryCount != 2 || sum.Length != int64(2*len(data)+4) {
		t.Errorf("GETCONTENTSUMMARY after RENAME: %+v", sum)
	}
	del, err := c.DeleteWithResponse(ctx, home, &webhdfs.DeleteParams{Op: webhdfs.DELETE, Recursive: new(true)})
	check(t, "DELETE", del, err)
	if !del.JSON200.Boolean {
		t.Error("DELETE answered false")
	}

	// One service ticket per host, each for that host's own principal.
	for _, spn := range []string{"HTTP/localhost", "HTTP/127.0.0.1"} {
		if n, err := env.realm.TGSCount(user, spn); err != nil || n != 1 {
			t.Errorf("service tickets for %s: %d (%v), want 1", spn, n, err)
		}
	}
}

func TestSDKReportsThroughNegotiate(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	c, err := ssrs.NewWithClient(lab.namenode.URL+restapis.ReportsPrefix, lab.client(t, auth.WithCCache(kinit(t, "alice"))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	alice := "alice@" + env.realm.Realm

	folder, err := c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Finance"), Path: new("/")})
	check(t, "CreateFolder", folder, err)
	fid := *folder.JSON201.Id
	gf, err := c.GetFolderWithResponse(ctx, fid)
	check(t, "GetFolder", gf, err)
	if *gf.JSON200.Path != "/Finance" || *gf.JSON200.CreatedBy != alice {
		t.Errorf("GetFolder: path %s, created by %s", *gf.JSON200.Path, *gf.JSON200.CreatedBy)
	}
	lf, err := c.ListFoldersWithResponse(ctx, &ssrs.ListFoldersParams{Filter: new("Name eq 'Finance'")})
	check(t, "ListFolders", lf, err)
	if len(lf.JSON200.Value) != 1 {
		t.Errorf("ListFolders: %d folders named Finance", len(lf.JSON200.Value))
	}

	rdl := []byte(`<?xml version="1.0"?><Report><ReportParameters><ReportParameter Name="Year"/></ReportParameters></Report>`)
	rep, err := c.CreateReportWithResponse(ctx, ssrs.Report{Name: new("Sales"), Path: new("/Finance"), Content: &rdl})
	check(t, "CreateReport", rep, err)
	rid := *rep.JSON201.Id
	gr, err := c.GetReportWithResponse(ctx, rid)
	check(t, "GetReport", gr, err)
	if *gr.JSON200.Size != int64(len(rdl)) || !*gr.JSON200.HasParameters {
		t.Errorf("GetReport: size %d, parameters %v", *gr.JSON200.Size, *gr.JSON200.HasParameters)
	}
	lr, err := c.ListReportsWithResponse(ctx, nil)
	check(t, "ListReports", lr, err)

	res := []byte("PNG")
	item, err := c.CreateCatalogItemWithResponse(ctx, ssrs.CatalogItem{
		OdataType: new("#Model.Resource"), Name: new("logo.png"), Path: new("/Finance/logo.png"), Content: &res,
	})
	check(t, "CreateCatalogItem", item, err)
	gi, err := c.GetCatalogItemWithResponse(ctx, *item.JSON201.Id)
	check(t, "GetCatalogItem", gi, err)
	li, err := c.ListCatalogItemsWithResponse(ctx, &ssrs.ListCatalogItemsParams{Count: new(true)})
	check(t, "ListCatalogItems", li, err)
	if *li.JSON200.OdataCount != 4 { // /, /Finance, its report and its resource
		t.Errorf("ListCatalogItems: %d items", *li.JSON200.OdataCount)
	}
	in, err := c.ListFolderCatalogItemsWithResponse(ctx, fid, nil)
	check(t, "ListFolderCatalogItems", in, err)
	if len(in.JSON200.Value) != 2 {
		t.Errorf("ListFolderCatalogItems: %d items in /Finance, want 2", len(in.JSON200.Value))
	}

	di, err := c.DeleteCatalogItemWithResponse(ctx, *item.JSON201.Id)
	check(t, "DeleteCatalogItem", di, err)
	dr, err := c.DeleteReportWithResponse(ctx, rid)
	check(t, "DeleteReport", dr, err)
	df, err := c.DeleteFolderWithResponse(ctx, fid)
	check(t, "DeleteFolder", df, err)
	gone, err := c.GetFolderWithResponse(ctx, fid)
	if err != nil {
		t.Fatal(err)
	}
	var re *ssrs.ResponseError
	if !errors.As(ssrs.CheckResponse(gone), &re) || re.StatusCode != http.StatusNotFound || re.Body == nil {
		t.Errorf("GetFolder after DeleteFolder: %v, want 404 with an OData error", ssrs.CheckResponse(gone))
	}
}

// TestSDKNewOverHTTP goes through New, which builds the Negotiate client
// from auth options alone, against the lab over plain HTTP.
func TestSDKNewOverHTTP(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, false)
	user, password := newUser(t)
	opts := []auth.Option{auth.WithConfig(env.conf), auth.WithPrincipal(user), auth.WithPassword(password)}
	ctx := t.Context()

	hdfs, err := webhdfs.New(lab.namenode.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := hdfs.PutWithBodyWithResponse(ctx, "tmp/hello.txt", &webhdfs.PutParams{Op: webhdfs.CREATE},
		"text/plain", strings.NewReader("hello"))
	check(t, "CREATE", cr, err)
	op, err := hdfs.GetWithResponse(ctx, "tmp/hello.txt", &webhdfs.GetParams{Op: webhdfs.OPEN})
	check(t, "OPEN", op, err)
	if string(op.Body) != "hello" {
		t.Errorf("OPEN: %q", op.Body)
	}

	reports, err := ssrs.New(lab.namenode.URL+restapis.ReportsPrefix, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := reports.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Ops")})
	check(t, "CreateFolder", f, err)
	if *f.JSON201.CreatedBy != user+"@"+env.realm.Realm {
		t.Errorf("CreatedBy %s", *f.JSON201.CreatedBy)
	}
}

// TestSDKWithoutChannelBindingIsRefused: the lab requires channel bindings
// (IIS Extended Protection "Require"), so a client that leaves them out
// gets the 401, which CheckResponse reports.
func TestSDKWithoutChannelBindingIsRefused(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	c, err := webhdfs.NewWithClient(lab.namenode.URL,
		lab.client(t, auth.WithCCache(kinit(t, "alice")), auth.WithChannelBinding(false)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.GetWithResponse(t.Context(), "", &webhdfs.GetParams{Op: webhdfs.LISTSTATUS})
	if err != nil {
		t.Fatal(err)
	}
	var re *webhdfs.ResponseError
	if !errors.As(webhdfs.CheckResponse(resp), &re) || re.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without channel bindings: %v, want 401", webhdfs.CheckResponse(resp))
	}
}
