package webhdfs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
)

// List a directory as a service principal logged in from a keytab.
func ExampleNew() {
	c, err := webhdfs.New("https://namenode.example.com:9871",
		auth.WithPrincipal("etl@EXAMPLE.COM"),
		auth.WithKeytab("/etc/security/keytabs/etl.keytab"))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetWithResponse(context.Background(), "user/etl", &webhdfs.GetParams{Op: webhdfs.LISTSTATUS})
	if err != nil {
		log.Fatal(err)
	}
	if err := webhdfs.CheckResponse(resp); err != nil {
		log.Fatal(err)
	}
	for _, st := range resp.JSON200.FileStatuses.FileStatus {
		fmt.Println(st.PathSuffix, st.Type, st.Length)
	}
}

// Trust a private CA: the Negotiate transport wraps a base transport of
// the caller's, and the client uses it as it is.
func ExampleNewWithClient() {
	pool := x509.NewCertPool()
	pem, err := os.ReadFile("/etc/hadoop/ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	pool.AppendCertsFromPEM(pem)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: pool}
	tr, err := auth.NewTransport(base, auth.WithCCache("FILE:/tmp/krb5cc_etl"))
	if err != nil {
		log.Fatal(err)
	}
	c, err := webhdfs.NewWithClient("https://namenode.example.com:9871", &http.Client{Transport: tr})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.PutWithBodyWithResponse(context.Background(), "user/etl/incoming",
		&webhdfs.PutParams{Op: webhdfs.MKDIRS}, "", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(webhdfs.CheckResponse(resp))
}

// Upload a file without reading it into memory: the namenode redirects
// CREATE to a datanode, and the client sends the file there. (Test servers
// stand in for the cluster.)
func ExampleFileBody() {
	datanode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Printf("datanode: %s %s, %d bytes\n", r.Method, r.URL.Path, n)
		w.WriteHeader(http.StatusCreated)
	}))
	defer datanode.Close()
	namenode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("namenode: %s %s?%s\n", r.Method, r.URL.Path, r.URL.RawQuery)
		http.Redirect(w, r, datanode.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer namenode.Close()

	f, err := os.CreateTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString("id,amount\n1,42\n"); err != nil {
		log.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}

	c, err := webhdfs.NewWithClient(namenode.URL, &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})
	if err != nil {
		log.Fatal(err)
	}
	overwrite := true
	resp, err := c.PutWithBodyWithResponse(context.Background(), "user/etl/amounts.csv",
		&webhdfs.PutParams{Op: webhdfs.CREATE, Overwrite: &overwrite},
		"application/octet-stream", webhdfs.FileBody(f, info.Size()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status(), webhdfs.CheckResponse(resp))
	// Output:
	// namenode: PUT /webhdfs/v1/user/etl/amounts.csv?op=CREATE&overwrite=true
	// datanode: PUT /webhdfs/v1/user/etl/amounts.csv, 15 bytes
	// 201 Created <nil>
}
