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
	resp, err := c.GetWithResponse(context.Background(), "user/etl", &webhdfs.GetParams{Op: webhdfs.GetOpLISTSTATUS})
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
		&webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "", nil)
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
		&webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Overwrite: &overwrite},
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

// Get a delegation token with Kerberos, then work with the token alone, as
// a long job does once its tickets may have expired: the token rides in
// every request's URL, and the namenode passes it on to the datanode.
// (Test servers stand in for the cluster.)
func ExampleNewWithDelegationToken() {
	datanode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("datanode: %s with the token: %v\n", r.URL.Query().Get("op"), r.URL.Query().Get("delegation") == "JQAIaG9y")
		fmt.Fprint(w, "id,amount\n")
	}))
	defer datanode.Close()
	namenode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("namenode: %s with the token: %v, Authorization: %q\n",
			r.URL.Query().Get("op"), r.URL.Query().Get("delegation") == "JQAIaG9y", r.Header.Get("Authorization"))
		http.Redirect(w, r, datanode.URL+r.URL.Path+"?op=OPEN&delegation=JQAIaG9y&namenoderpcaddress=nn:8020", http.StatusTemporaryRedirect)
	}))
	defer namenode.Close()

	// Earlier, with Kerberos (webhdfs.New): op=GETDELEGATIONTOKEN answers
	// resp.JSON200.Token.UrlString, here "JQAIaG9y".
	c, err := webhdfs.NewWithDelegationToken(namenode.URL, "JQAIaG9y", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetWithResponse(context.Background(), "user/etl/amounts.csv", &webhdfs.GetParams{Op: webhdfs.GetOpOPEN})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %q\n", resp.Status(), resp.Body)
	// Output:
	// namenode: OPEN with the token: true, Authorization: ""
	// datanode: OPEN with the token: true
	// 200 OK "id,amount\n"
}
