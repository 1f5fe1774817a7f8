package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
	"github.com/krbhttp/krbhttp/sdk/ssrs"
)

// The SDK clients against real-behaviour servers and a real MIT KDC: the
// WebHDFS client against a namenode that authenticates as Hadoop's does
// (SPNEGO per request, then the hadoop.auth cookie; delegation tokens) and
// a datanode that does no SPNEGO at all and takes the delegation token in
// the redirect; the Reporting Services client against the IIS-like
// server (connection-bound Negotiate, strict channel binding over HTTPS).
// The namenode and the report server answer as https://localhost:P with
// HTTP/localhost's key; the datanode as https://127.0.0.1:Q, whose service
// principal HTTP/127.0.0.1 the client must never ask a ticket for.

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

// serveHadoop runs a Hadoop daemon's HTTP server for h on s, over HTTPS
// with a certificate for s's host when there is a CA.
func (s *sdkServer) serveHadoop(t *testing.T, ca *testcert.CA, h http.Handler) {
	t.Helper()
	var tlsConfig *tls.Config
	if ca != nil {
		cert, err := ca.Server(s.host)
		if err != nil {
			t.Fatal(err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv := restapis.NewHadoopServer(h, tlsConfig)
	done := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			done <- srv.ServeTLS(s.l, "", "")
		} else {
			done <- srv.Serve(s.l)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving %s: %v", s.URL, err)
		}
	})
}

// sdkLab is a namenode and a datanode, and a report server.
type sdkLab struct {
	ca                          *testcert.CA // nil: plain HTTP
	namenode, datanode, reports *sdkServer
	hdfs                        *restapis.WebHDFS
	// credentialsAtDatanode counts datanode requests that carried an
	// Authorization or Cookie header.
	credentialsAtDatanode atomic.Int64
}

// startSDKLab starts the lab, over HTTPS when useTLS; cfg may set WebHDFS
// options.
func startSDKLab(t *testing.T, useTLS bool, cfgs ...func(*restapis.WebHDFSConfig)) *sdkLab {
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
	lab.reports = listen(t, scheme, "localhost")
	kt, err := credentials.LoadKeytab(env.httpKeytab)
	if err != nil {
		t.Fatal(err)
	}
	cfg := restapis.WebHDFSConfig{Keytab: kt, DataNodeURL: lab.datanode.URL}
	for _, f := range cfgs {
		f(&cfg)
	}
	if lab.hdfs, err = restapis.NewWebHDFS(cfg); err != nil {
		t.Fatal(err)
	}
	lab.namenode.serveHadoop(t, lab.ca, lab.hdfs.NameNode)
	lab.datanode.serveHadoop(t, lab.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			lab.credentialsAtDatanode.Add(1)
		}
		lab.hdfs.DataNode.ServeHTTP(w, r)
	}))
	lab.reports.serve(t, lab.ca, env.httpKeytab, map[string]http.Handler{restapis.ReportsPrefix + "/": restapis.NewReports()})
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

func TestSDKReportsThroughNegotiate(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	c, err := ssrs.NewWithClient(lab.reports.URL+restapis.ReportsPrefix, lab.client(t, auth.WithCCache(kinit(t, "alice"))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	alice := "alice@" + env.realm.Realm

	folder, err := c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Finance Q1"), Path: new("/")})
	check(t, "CreateFolder", folder, err)
	gf, err := c.GetFolderWithResponse(ctx, ssrs.PathKey("/Finance Q1"), nil)
	check(t, "GetFolder by path", gf, err)
	if *gf.JSON200.Id != *folder.JSON201.Id || *gf.JSON200.CreatedBy != alice {
		t.Errorf("GetFolder: id %s, created by %s", *gf.JSON200.Id, *gf.JSON200.CreatedBy)
	}
	rdl := []byte(`<?xml version="1.0"?><Report><ReportParameters><ReportParameter Name="Year"/></ReportParameters></Report>`)
	rep, err := c.CreateReportWithResponse(ctx, ssrs.Report{Name: new("Sales"), Path: new("/Finance Q1"), Content: &rdl})
	check(t, "CreateReport", rep, err)
	key := ssrs.PathKey("/Finance Q1/Sales")
	content, err := c.GetReportContentWithResponse(ctx, key)
	check(t, "GetReportContent", content, err)
	if !bytes.Equal(content.Body, rdl) {
		t.Errorf("Content/$value: %q", content.Body)
	}
	up, err := c.UpdateReportWithResponse(ctx, key, ssrs.Report{Description: new("quarterly")})
	check(t, "UpdateReport", up, err)
	sel, err := c.ListFolderCatalogItemsWithResponse(ctx, ssrs.PathKey("/Finance Q1"), &ssrs.ListFolderCatalogItemsParams{Select: new("Name,Description")})
	check(t, "ListFolderCatalogItems", sel, err)
	if v := sel.JSON200.Value; len(v) != 1 || *v[0].Description != "quarterly" || v[0].Path != nil {
		t.Errorf("ListFolderCatalogItems with $select: %+v", v)
	}
	del, err := c.DeleteFolderWithResponse(ctx, ssrs.PathKey("/Finance Q1"))
	check(t, "DeleteFolder", del, err)
	if del.StatusCode() != http.StatusOK {
		t.Errorf("DeleteFolder: %s, want 200", del.Status())
	}
	gone, err := c.GetReportWithResponse(ctx, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	var re *ssrs.ResponseError
	if !errors.As(ssrs.CheckResponse(gone), &re) || re.StatusCode != http.StatusNotFound || re.Body == nil || re.Body.Error.Code != "rsItemNotFound" {
		t.Errorf("GetReport after DeleteFolder: %v, want 404 rsItemNotFound", ssrs.CheckResponse(gone))
	}
}

// TestSDKWithoutChannelBindingIsRefused: the report server requires
// channel bindings (IIS Extended Protection "Require"), so a client that
// leaves them out gets the 401, which CheckResponse reports.
func TestSDKWithoutChannelBindingIsRefused(t *testing.T) {
	t.Parallel()
	lab := startSDKLab(t, true)
	c, err := ssrs.NewWithClient(lab.reports.URL+restapis.ReportsPrefix,
		lab.client(t, auth.WithCCache(kinit(t, "alice")), auth.WithChannelBinding(false)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.ListFoldersWithResponse(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var re *ssrs.ResponseError
	if !errors.As(ssrs.CheckResponse(resp), &re) || re.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without channel bindings: %v, want 401", ssrs.CheckResponse(resp))
	}
}
