package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

const alicePassword = "demo-password-1"

func run(out io.Writer) error {
	start := time.Now()

	realm, err := kdctest.NewTemp()
	if err != nil {
		return err
	}
	defer realm.Close()
	dir := realm.Dir
	if err := realm.AddPrincipal("alice", alicePassword); err != nil {
		return err
	}
	ktPath, err := realm.AddService("HTTP/localhost", true)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "KDC        realm %s on %s (MIT krb5kdc, in %s)\n", realm.Realm, realm.KDCAddr, dir)

	kt, err := credentials.LoadKeytab(ktPath)
	if err != nil {
		return err
	}
	conf, err := krb5conf.LoadFiles(realm.ConfigPath)
	if err != nil {
		return err
	}
	ca, err := testcert.NewCA()
	if err != nil {
		return err
	}
	cert, err := ca.Server("localhost", "127.0.0.1")
	if err != nil {
		return err
	}
	plainURL, stopPlain, err := serve(iis.Config{Keytab: kt, PersistentAuth: true, Krb5Config: conf})
	if err != nil {
		return err
	}
	defer stopPlain()
	tlsURL, stopTLS, err := serve(iis.Config{Keytab: kt, PersistentAuth: true, ChannelBinding: acceptor.BindingStrict, Krb5Config: conf,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		return err
	}
	defer stopTLS()
	fmt.Fprintf(out, "servers    IIS-like %s (HTTP) and %s (HTTPS, channel binding required)\n\n", plainURL, tlsURL)

	base := http.DefaultTransport.(*http.Transport).Clone()
	var h1 http.Protocols
	h1.SetHTTP1(true)
	base.Protocols = &h1
	base.TLSClientConfig = &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	login := []auth.Option{
		auth.WithConfig(conf),
		auth.WithPrincipal("alice"),
		auth.WithPassword(alicePassword),
		auth.WithMutualAuthentication(auth.MutualRequired),
	}
	client, err := newClient(base, login...)
	if err != nil {
		return err
	}
	delegating, err := newClient(base.Clone(), append(login, auth.WithDelegation(auth.DelegateAlways))...)
	if err != nil {
		return err
	}

	calls := []struct {
		what, url string
		client    *http.Client
	}{
		{"HTTP, mutual authentication required", plainURL + "/whoami", client},
		{"HTTP, same keep-alive connection (IIS persistent auth)", plainURL + "/whoami", client},
		{"HTTPS, channel binding (tls-server-end-point)", tlsURL + "/whoami", client},
		{"HTTPS, channel binding, credential delegation (the server makes a second hop as alice)", tlsURL + "/whoami", delegating},
	}
	for i, c := range calls {
		if err := call(out, c.client, i+1, c.what, c.url); err != nil {
			return err
		}
	}
	n, err := realm.TGSCount("alice@"+realm.Realm, "HTTP/localhost@"+realm.Realm)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "KDC log    %d service-ticket request(s) as alice for HTTP/localhost across %d calls\n"+
		"           (one per client transport, cached for all its calls; one by the server with the delegated TGT)\n", n, len(calls))
	fmt.Fprintf(out, "done in %s; KDC and servers stopped, %s removed\n", time.Since(start).Round(time.Millisecond), dir)
	return nil
}

func call(out io.Writer, c *http.Client, n int, what, url string) error {
	resp, err := c.Get(url)
	var mutual *auth.MutualAuthenticationError
	if errors.As(err, &mutual) {
		return fmt.Errorf("call %d: the server failed mutual authentication: %w", n, err)
	}
	if err != nil {
		return fmt.Errorf("call %d: %w", n, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("call %d: %s (%v)", n, resp.Status, auth.ResponseError(resp))
	}
	var saw iis.WhoAmI
	if err := json.NewDecoder(resp.Body).Decode(&saw); err != nil {
		return err
	}
	token := "server token verified"
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate ") {
		token = "no token: connection already mutually authenticated"
	}
	fmt.Fprintf(out, "call %d     %s\n  GET %s -> %s, %s (%s)\n  server saw: principal=%s channel_bound=%v connection_auth=%v delegated=%v delegation_usable=%v\n\n",
		n, what, url, resp.Status, resp.Proto, token, saw.Principal, saw.ChannelBound, saw.ConnectionAuth, saw.Delegated, saw.DelegationUsable)
	return nil
}

func newClient(base http.RoundTripper, opts ...auth.Option) (*http.Client, error) {
	tr, err := auth.NewTransport(base, opts...)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, nil
}

// serve starts an IIS-like server on a loopback port and returns its URL
// with the host name "localhost", so that the SPN is HTTP/localhost.
func serve(cfg iis.Config) (string, func(), error) {
	srv, err := iis.New(cfg)
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.Serve(l) }()
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return fmt.Sprintf("%s://localhost:%d", scheme, l.Addr().(*net.TCPAddr).Port), stop, nil
}
