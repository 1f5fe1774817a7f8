package acceptor_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// The examples verify tokens for HTTP/web.example.test@EXAMPLE.TEST with
// the forged keys of krbtest; a real server loads its keytab with
// credentials.LoadKeytab("/etc/krb5.keytab").

// exampleService is the service the examples authenticate clients for.
func exampleService() *krbtest.Service { return service() }

// exampleToken is the Authorization value a client sends with a fresh
// ticket of alice's; auth.Transport does this for Go clients.
func exampleToken(cfg gss.InitiatorConfig, opts ...krbtest.TicketOption) string {
	if cfg.Ticket == nil {
		tkt, err := exampleService().NewTicket("alice", opts...)
		if err != nil {
			panic(err)
		}
		cfg.Ticket = tkt
	}
	_, tok, err := gss.NewInitiator(cfg)
	if err != nil {
		panic(err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(tok)
}

// exampleKrb5Config names a KDC for EXAMPLE.TEST that the examples never
// reach.
func exampleKrb5Config() *krb5conf.Config {
	conf, err := krb5conf.Parse("[libdefaults]\n default_realm = EXAMPLE.TEST\n[realms]\n EXAMPLE.TEST = {\n  kdc = 127.0.0.1:1\n }\n")
	if err != nil {
		panic(err)
	}
	return conf
}

// hello greets the authenticated client.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, _ := acceptor.IdentityFromContext(r.Context())
	fmt.Fprintln(w, "hello", id.Principal)
})

// exampleGet sends a GET with the Authorization value authz (none when
// empty) through h and prints the status, and the body of a 200.
func exampleGet(h http.Handler, authz string) {
	r := httptest.NewRequest(http.MethodGet, "https://web.example.test/", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		fmt.Println(w.Code)
		return
	}
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
}

func ExampleWithServicePrincipal() {
	kt := exampleService().Keytab()
	a, err := acceptor.New(kt, acceptor.WithServicePrincipal("HTTP/web.example.test@EXAMPLE.TEST"))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{}))

	// A service the keytab has no key for is refused at once.
	_, err = acceptor.New(kt, acceptor.WithServicePrincipal("HTTP/other.example.test"))
	fmt.Println(err)
	// Output:
	// 200 hello alice@EXAMPLE.TEST
	// acceptor: gss: ticket for unknown service: the keytab has no key for HTTP/other.example.test
}

func ExampleWithRealms() {
	kt := exampleService().Keytab()
	// Only clients of the partner realm; alice is of EXAMPLE.TEST.
	a, err := acceptor.New(kt, acceptor.WithRealms("PARTNER.TEST"))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{}))

	a, err = acceptor.New(kt, acceptor.WithRealms("EXAMPLE.TEST", "PARTNER.TEST"))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{}))
	// Output:
	// 401
	// 200 hello alice@EXAMPLE.TEST
}

func ExampleWithConnectionBound() {
	a, err := acceptor.New(exampleService().Keytab(), acceptor.WithConnectionBound(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewUnstartedServer(a.Wrap(hello))
	srv.Config.ConnContext = a.ConnContext // required by WithConnectionBound
	srv.Start()
	defer srv.Close()

	// One keep-alive connection: only its first request carries a token.
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for _, authz := range []string{exampleToken(gss.InitiatorConfig{}), ""} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s (Persistent-Auth: %q)\n", resp.StatusCode, strings.TrimSpace(string(body)), resp.Header.Get("Persistent-Auth"))
	}
	// Output:
	// 200 hello alice@EXAMPLE.TEST (Persistent-Auth: "true")
	// 200 hello alice@EXAMPLE.TEST (Persistent-Auth: "")
}

func ExampleWithChannelBinding() {
	kt := exampleService().Keytab()
	cert := certA() // usually the Leaf of the server's tls.Certificate
	a, err := acceptor.New(kt, acceptor.WithChannelBinding(acceptor.BindingStrict, cert))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := a.Wrap(hello)
	exampleGet(h, exampleToken(gss.InitiatorConfig{ChannelBindings: gss.TLSServerEndPoint(cert)}))
	exampleGet(h, exampleToken(gss.InitiatorConfig{})) // no bindings
	exampleGet(h, exampleToken(gss.InitiatorConfig{ChannelBindings: gss.TLSServerEndPoint(certB())}))

	// A policy other than BindingNone needs the certificate.
	_, err = acceptor.New(kt, acceptor.WithChannelBinding(acceptor.BindingRelaxed, nil))
	fmt.Println(err)
	// Output:
	// 200 hello alice@EXAMPLE.TEST
	// 401
	// 401
	// acceptor: WithChannelBinding: policy relaxed needs the server certificate
}

func ExampleWithReplayCacheSize() {
	a, err := acceptor.New(exampleService().Keytab(), acceptor.WithReplayCacheSize(10_000))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := a.Wrap(hello)
	authz := exampleToken(gss.InitiatorConfig{})
	exampleGet(h, authz)
	exampleGet(h, authz) // the same token again: a replay
	// Output:
	// 200 hello alice@EXAMPLE.TEST
	// 401
}

func ExampleWithMaxHeaderBytes() {
	// HTTP.sys's default MaxRequestBytes.
	a, err := acceptor.New(exampleService().Keytab(), acceptor.WithMaxHeaderBytes(16<<10))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := a.Wrap(hello)
	exampleGet(h, exampleToken(gss.InitiatorConfig{}))
	exampleGet(h, "Negotiate "+strings.Repeat("A", 16<<10))
	// Output:
	// 200 hello alice@EXAMPLE.TEST
	// 400
}

func ExampleWithMaxSkew() {
	kt := exampleService().Keytab()
	// A client whose clock is 10 minutes ahead.
	ahead := func() time.Time { return time.Now().Add(10 * time.Minute) }

	a, err := acceptor.New(kt) // 5 minutes
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{Now: ahead}))

	a, err = acceptor.New(kt, acceptor.WithMaxSkew(15*time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{Now: ahead}))
	// Output:
	// 401
	// 200 hello alice@EXAMPLE.TEST
}

func ExampleWithConfig() {
	// Usually krb5conf.Load(), or the server's own krb5.conf.
	conf := exampleKrb5Config()
	a, err := acceptor.New(exampleService().Keytab(), acceptor.WithConfig(conf))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		if id.Credentials == nil {
			fmt.Fprintln(w, "nothing delegated")
			return
		}
		// auth.WithCredentials(id.Credentials) calls the next service as
		// the user, with conf's KDCs.
		fmt.Fprintln(w, "delegated by", id.Credentials.Principal())
	}))

	// A client that delegates a forwarded TGT, as curl --delegation does.
	krbtgt, err := krbtest.New("krbtgt/EXAMPLE.TEST", "EXAMPLE.TEST")
	if err != nil {
		fmt.Println(err)
		return
	}
	tgt, err := krbtgt.NewTicket("alice", krbtest.WithFlags(flags.Forwardable, flags.Forwarded))
	if err != nil {
		fmt.Println(err)
		return
	}
	tkt, err := exampleService().NewTicket("alice")
	if err != nil {
		fmt.Println(err)
		return
	}
	krbCred, err := gss.MarshalKRBCred(tgt, tkt.SessionKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(h, exampleToken(gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagDelegate, Delegation: krbCred}))
	exampleGet(h, exampleToken(gss.InitiatorConfig{}))
	// Output:
	// 200 delegated by alice@EXAMPLE.TEST
	// 200 nothing delegated
}

func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // for a stable output
			}
			return a
		},
	}))
	a, err := acceptor.New(exampleService().Keytab(), acceptor.WithLogger(logger))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), "")
	// Output:
	// level=INFO msg="acceptor: unauthenticated request" remote=192.0.2.1:1234 status=401 reason="no Authorization header"
	// 401
}

func ExampleWithClock() {
	// A server clock a day ahead: alice's 10-hour ticket has expired.
	tomorrow := func() time.Time { return time.Now().Add(24 * time.Hour) }
	a, err := acceptor.New(exampleService().Keytab(), acceptor.WithClock(tomorrow))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{}))
	exampleGet(a.Wrap(hello), exampleToken(gss.InitiatorConfig{Now: tomorrow}, krbtest.WithStart(tomorrow())))
	// Output:
	// 401
	// 200 hello alice@EXAMPLE.TEST
}
