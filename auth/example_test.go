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
	"time"

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

func ExampleWithPreemptive() {
	url, src, conf, stop := exampleLab()
	defer stop()
	// requests-kerberos's force_preemptive=True: no 401 round trip at all.
	get(exampleClient(src, conf, auth.WithPreemptive(auth.PreemptiveAlways)), url)
	// A token up front only to origins that have asked for one.
	c := exampleClient(src, conf, auth.WithPreemptive(auth.PreemptiveAfterChallenge))
	get(c, url) // 401, then authenticated
	get(c, url) // token up front
	// Output:
	// 200 hello alice@EXAMPLE.TEST
	// 200 hello alice@EXAMPLE.TEST
	// 200 hello alice@EXAMPLE.TEST
}

func ExampleParsePreemptiveMode() {
	m, err := auth.ParsePreemptiveMode("after-challenge")
	fmt.Println(m, err)
	// Output: after-challenge <nil>
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

func ExampleWithWriteBack() {
	// Service tickets stay in this process instead of being added to the
	// credential cache (where klist, curl and the next run would find
	// them).
	_, err := auth.NewTransport(nil, auth.WithWriteBack(false))
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

func ExampleWithScheme() {
	url, src, conf, stop := exampleLab()
	defer stop()
	// "Authorization: Kerberos <raw token>", as WinRM accepts it.
	get(exampleClient(src, conf, auth.WithScheme(auth.SchemeKerberos), auth.WithPreemptive(auth.PreemptiveAlways)), url)
	// Output: 200 hello alice@EXAMPLE.TEST
}

func ExampleParseScheme() {
	s, err := auth.ParseScheme("kerberos")
	fmt.Println(s, err)
	// Output: Kerberos <nil>
}

func ExampleWithKDCTimeout() {
	// Each KDC gets 1 s before the next one in krb5.conf is tried.
	_, err := auth.NewTransport(nil, auth.WithKDCTimeout(time.Second))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithRenewal() {
	// A service running for days on the cache kinit -r filled: its TGT
	// is renewed, and written back, until its renew-till.
	_, err := auth.NewTransport(nil, auth.WithCCache("FILE:/tmp/krb5cc_service"), auth.WithRenewal(true))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithRefreshFraction() {
	// Tickets are replaced once half their lifetime has passed.
	_, err := auth.NewTransport(nil, auth.WithRefreshFraction(0.5))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleTransport_CredentialStats() {
	_, _, conf, stop := exampleLab()
	defer stop()
	tr, err := auth.NewTransport(nil, auth.WithConfig(conf), auth.WithPrincipal("alice"), auth.WithPassword("secret"))
	if err != nil {
		panic(err)
	}
	// A service exports these, for example as metrics, to watch the load
	// it puts on its KDC. Nothing has been asked yet.
	s := tr.CredentialStats()
	fmt.Printf("logins %d, service tickets %d, cache hits %d\n", s.Logins, s.ServiceTickets, s.CacheHits)
	// Output: logins 0, service tickets 0, cache hits 0
}

func ExampleWithClientTrace() {
	url, src, conf, stop := exampleLab()
	defer stop()
	trace := &auth.ClientTrace{Authenticated: func(a auth.Authenticated) {
		fmt.Println("context established under", a.Scheme, "on a known connection:", a.Conn != nil)
		// Messages are protected through a.Protector; a.Context holds the
		// keys, except for a context whose keys stay in Windows (SSPI).
		fmt.Println("protector:", a.Protector != nil, "keys:", a.Context != nil)
	}}
	req, _ := http.NewRequestWithContext(auth.WithClientTrace(context.Background(), trace), "GET", url, nil)
	resp, err := exampleClient(src, conf).Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	// Output:
	// context established under Negotiate on a known connection: true
	// protector: true keys: true
}

func ExampleTransport() {
	url, _, _, stop := exampleLab()
	defer stop()
	// The zero Transport works: the default credential cache, an HTTP/1.1
	// base. Here there is no ticket for the lab's realm, so the 401 comes
	// back.
	resp, err := (&http.Client{Transport: &auth.Transport{}}).Get(url)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, auth.ResponseError(resp) != nil)
	// Output: 401 true
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
	// A server that reads the whole body before it asks to authenticate.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, src, conf, stop := exampleLab()
	defer stop()
	c := exampleClient(src, conf, auth.WithReplayBuffer(4))
	// A body without GetBody, longer than the copy kept of it, cannot be
	// sent again once the server has read it.
	_, err := c.Post(srv.URL, "text/plain", io.MultiReader(strings.NewReader("too long to hold")))
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
