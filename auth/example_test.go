package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// exampleLab starts a Kerberized server on loopback and returns its URL
// and a ticket source holding a forged ticket for it, so that the examples
// run without a KDC. Real programs use the default credential cache or
// WithPassword / WithKeytab instead of WithCredentials.
func exampleLab(opts ...acceptor.Option) (url string, src credentials.Source, conf *krb5conf.Config, stop func()) {
	svc, err := krbtest.New("HTTP/127.0.0.1", "EXAMPLE.TEST")
	if err != nil {
		panic(err)
	}
	a, err := acceptor.New(svc.Keytab(), opts...)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewUnstartedServer(a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", id.Principal)
	})))
	srv.Config.ConnContext = a.ConnContext
	srv.Start()
	conf, err = krb5conf.Parse(`[libdefaults]
 default_realm = EXAMPLE.TEST
 dns_canonicalize_hostname = false
 rdns = false
[realms]
 EXAMPLE.TEST = {
  kdc = 127.0.0.1:1
 }`)
	if err != nil {
		panic(err)
	}
	return srv.URL, exampleSource{svc}, conf, srv.Close
}

type exampleSource struct{ svc *krbtest.Service }

func (s exampleSource) ServiceTicket(context.Context, string) (*ticket.Ticket, error) {
	return s.svc.NewTicket("alice")
}

// get prints the status and body of a GET, or the error.
func get(c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", strings.TrimSpace(string(b)))))
}

func ExampleNewClient() {
	url, src, conf, stop := exampleLab()
	defer stop()
	// auth.NewClient() alone uses the default credential cache (KRB5CCNAME).
	client, err := auth.NewClient(auth.WithCredentials(src), auth.WithConfig(conf))
	if err != nil {
		panic(err)
	}
	get(client, url)
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleNewTransport() {
	url, src, conf, stop := exampleLab()
	defer stop()
	base := http.DefaultTransport.(*http.Transport).Clone() // your own transport
	tr, err := auth.NewTransport(base, auth.WithCredentials(src), auth.WithConfig(conf))
	if err != nil {
		panic(err)
	}
	get(&http.Client{Transport: tr}, url)
	// Output: 200 hello alice@EXAMPLE.TEST
}

// exampleClient builds a client for the example lab with extra options.
func exampleClient(src credentials.Source, conf *krb5conf.Config, opts ...auth.Option) *http.Client {
	c, err := auth.NewClient(append([]auth.Option{auth.WithCredentials(src), auth.WithConfig(conf)}, opts...)...)
	if err != nil {
		panic(err)
	}
	return c
}

func ExampleWithMutualAuthentication() {
	url, src, conf, stop := exampleLab()
	defer stop()
	get(exampleClient(src, conf, auth.WithMutualAuthentication(auth.MutualOptional)), url)
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleWithSanitize() {
	// A server that fails without proving who it is: under MutualRequired
	// its error page is hidden unless sanitizing is off.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Error(w, "stack trace from an impostor", http.StatusInternalServerError)
	}))
	defer srv.Close()
	_, src, conf, stop := exampleLab()
	defer stop()
	get(exampleClient(src, conf), srv.URL)
	get(exampleClient(src, conf, auth.WithSanitize(false)), srv.URL)
	// Output:
	// 500
	// 500 stack trace from an impostor
}

func ExampleWithForcePreemptive() {
	url, src, conf, stop := exampleLab()
	defer stop()
	get(exampleClient(src, conf, auth.WithForcePreemptive()), url) // no 401 round trip
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleWithPreemptiveAfterChallenge() {
	url, src, conf, stop := exampleLab()
	defer stop()
	c := exampleClient(src, conf, auth.WithPreemptiveAfterChallenge())
	get(c, url) // 401, then authenticated
	get(c, url) // token up front
	// Output:
	// 200 hello alice@EXAMPLE.TEST
	// 200 hello alice@EXAMPLE.TEST
}

func ExampleWithHostnameOverride() {
	// The service principal becomes HTTP/web.example.test whatever the URL
	// says, e.g. behind a load balancer reached by address.
	_, err := auth.NewTransport(nil, auth.WithHostnameOverride("web.example.test"))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithService() {
	// WinRM services are sometimes registered as WSMAN/host.
	_, err := auth.NewTransport(nil, auth.WithService("WSMAN"))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithPrincipal() {
	// Picks alice's cache in a DIR: collection (KRB5CCNAME=DIR:/run/user/1000/krb5cc).
	_, err := auth.NewTransport(nil, auth.WithPrincipal("alice@EXAMPLE.TEST"))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithPassword() {
	url, _, conf, stop := exampleLab()
	defer stop()
	// The example's KDC address answers nothing: the 401 comes back and
	// ResponseError says why.
	c, err := auth.NewClient(auth.WithConfig(conf), auth.WithPrincipal("alice"), auth.WithPassword(os.Getenv("EXAMPLE_PASSWORD")+"secret"))
	if err != nil {
		panic(err)
	}
	resp, err := c.Get(url)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, errors.Is(auth.ResponseError(resp), credentials.ErrKDCUnreachable))
	// Output: 401 true
}

func ExampleWithKeytab() {
	// An empty path means KRB5_CLIENT_KTNAME or MIT's default client keytab.
	_, err := auth.NewTransport(nil, auth.WithPrincipal("svc-batch@EXAMPLE.TEST"), auth.WithKeytab("/etc/krb5/batch.keytab"))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithCCache() {
	_, err := auth.NewTransport(nil, auth.WithCCache("FILE:/tmp/krb5cc_batch"))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithConfig() {
	conf, err := krb5conf.LoadFiles("/etc/krb5.conf")
	if err != nil {
		conf, _ = krb5conf.Parse("[libdefaults]\n default_realm = EXAMPLE.TEST\n")
	}
	_, err = auth.NewTransport(nil, auth.WithConfig(conf))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithCredentials() {
	url, src, conf, stop := exampleLab()
	defer stop()
	get(exampleClient(src, conf), url) // any credentials.Source: a mock, a vault, ...
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleWithRawKerberos() {
	url, src, conf, stop := exampleLab()
	defer stop()
	get(exampleClient(src, conf, auth.WithRawKerberos()), url)
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleWithChannelBinding() {
	// On by default over TLS; off for old servers that reject bindings.
	_, err := auth.NewTransport(nil, auth.WithChannelBinding(false))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithReplayBuffer() {
	url, src, conf, stop := exampleLab()
	defer stop()
	c := exampleClient(src, conf, auth.WithReplayBuffer(4))
	// A body without GetBody and longer than the buffer cannot follow a 401.
	_, err := c.Post(url, "text/plain", io.MultiReader(strings.NewReader("too long to hold")))
	fmt.Println(errors.Is(err, auth.ErrBodyNotReplayable))
	// Output: true
}

func ExampleWithLogger() {
	url, src, conf, stop := exampleLab()
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	get(exampleClient(src, conf, auth.WithLogger(logger)), url)
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleWithResolver() {
	_, err := auth.NewTransport(nil, auth.WithResolver(&net.Resolver{PreferGo: true}))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleResponseError() {
	url, _, conf, stop := exampleLab()
	defer stop()
	c, _ := auth.NewClient(auth.WithConfig(conf), auth.WithCCache("FILE:/nonexistent/ccache"))
	resp, err := c.Get(url)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	var ne *auth.NegotiateError
	fmt.Println(resp.StatusCode, errors.As(auth.ResponseError(resp), &ne), ne.SPN)
	// Output: 401 true HTTP/127.0.0.1
}

func ExampleMutualAuthenticationError() {
	// A server that answers 200 without ever proving its identity.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "trust me")
	}))
	defer srv.Close()
	_, src, conf, stop := exampleLab()
	defer stop()
	_, err := exampleClient(src, conf).Get(srv.URL)
	var me *auth.MutualAuthenticationError
	fmt.Println(errors.As(err, &me), me.Response.StatusCode)
	// Output: true 200
}
