package acceptor_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

const (
	realm = "EXAMPLE.TEST"
	spn   = "HTTP/web.example.test"
)

var (
	service = sync.OnceValue(func() *krbtest.Service {
		s, err := krbtest.New(spn, realm)
		if err != nil {
			panic(err)
		}
		return s
	})
	certA = sync.OnceValue(func() *x509.Certificate { return newCert("a.example.test") })
	certB = sync.OnceValue(func() *x509.Certificate { return newCert("b.example.test") })
)

func newCert(cn string) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return cert
}

func testConfig(t testing.TB) *krb5conf.Config {
	t.Helper()
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = " + realm + "\n[realms]\n " + realm + " = {\n  kdc = 127.0.0.1:1\n }\n")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newAuthenticator(t testing.TB, opts ...acceptor.Option) *acceptor.Authenticator {
	t.Helper()
	opts = append([]acceptor.Option{acceptor.WithConfig(testConfig(t))}, opts...)
	a, err := acceptor.New(service().Keytab(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// header builds an Authorization value for a fresh ticket of client's.
func header(t testing.TB, scheme, client string, cfg gss.InitiatorConfig, opts ...krbtest.TicketOption) (*gss.Initiator, string) {
	t.Helper()
	if cfg.Ticket == nil {
		cfg.Ticket = service().Ticket(t, client, opts...)
	}
	init, tok, err := gss.NewInitiator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return init, scheme + " " + base64.StdEncoding.EncodeToString(tok)
}

// seen is what the handler saw.
type seen struct {
	mu sync.Mutex
	id *acceptor.Identity
}

func (s *seen) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := acceptor.IdentityFromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		s.mu.Lock()
		s.id = id
		s.mu.Unlock()
		fmt.Fprint(w, id.Principal)
	})
}

func (s *seen) get() *acceptor.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// serve runs one request with the given Authorization values through a
// Wrap'd handler.
func serve(h http.Handler, authz ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "https://web.example.test/", nil)
	for _, v := range authz {
		r.Header.Add("Authorization", v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestSchemesAndMutualAuthentication(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		scheme string
		format gss.Format
	}{
		{"Negotiate", gss.FormatSPNEGO},
		{"Negotiate", gss.FormatKRB5},
		{"Kerberos", gss.FormatKRB5},
		{"negotiate", gss.FormatSPNEGO},
	} {
		t.Run(c.scheme+"/"+c.format.String(), func(t *testing.T) {
			t.Parallel()
			var s seen
			h := newAuthenticator(t).Wrap(s.handler())
			init, authz := header(t, c.scheme, "alice", gss.InitiatorConfig{Flags: gss.FlagMutual | gss.FlagSequence, Format: c.format})
			w := serve(h, authz)
			if w.Code != http.StatusOK || w.Body.String() != "alice@"+realm {
				t.Fatalf("status %d body %q", w.Code, w.Body)
			}
			// The reply names the scheme as the client wrote it canonically
			// and carries the AP-REP in the client's format.
			scheme, tok, _ := strings.Cut(w.Header().Get("WWW-Authenticate"), " ")
			if !strings.EqualFold(scheme, c.scheme) {
				t.Fatalf("reply scheme %q", scheme)
			}
			raw, err := base64.StdEncoding.DecodeString(tok)
			if err != nil {
				t.Fatal(err)
			}
			if err := init.Accept(raw); err != nil {
				t.Fatalf("AP-REP does not verify: %v", err)
			}
			id := s.get()
			if id.Realm != realm || id.Service != spn+"@"+realm || id.Flags&gss.FlagMutual == 0 || id.Context == nil || id.Delegated || id.ConnectionAuth {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func TestNoMutualNoReplyToken(t *testing.T) {
	t.Parallel()
	var s seen
	h := newAuthenticator(t).Wrap(s.handler())
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Format: gss.FormatKRB5})
	if w := serve(h, authz); w.Code != http.StatusOK || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("status %d, WWW-Authenticate %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		acc    []acceptor.Option
		client string
		opts   []krbtest.TicketOption
	}{
		"client of another realm": {client: "alice@OTHER.TEST"},
		"realm not accepted":      {acc: []acceptor.Option{acceptor.WithRealms("OTHER.TEST")}, client: "alice"},
		"expired ticket":          {client: "alice", opts: []krbtest.TicketOption{krbtest.WithStart(time.Now().Add(-2 * time.Hour)), krbtest.WithLifetime(time.Hour)}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var s seen
			h := newAuthenticator(t, c.acc...).Wrap(s.handler())
			_, authz := header(t, "Negotiate", c.client, gss.InitiatorConfig{Flags: gss.FlagMutual}, c.opts...)
			w := serve(h, authz)
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "Negotiate" || s.get() != nil {
				t.Fatalf("status %d, challenge %q, handler saw %v", w.Code, w.Header().Get("WWW-Authenticate"), s.get())
			}
		})
	}
}

func TestReplayRefused(t *testing.T) {
	t.Parallel()
	var s seen
	h := newAuthenticator(t).Wrap(s.handler())
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Flags: gss.FlagMutual})
	if w := serve(h, authz); w.Code != http.StatusOK {
		t.Fatalf("first use: %d", w.Code)
	}
	if w := serve(h, authz); w.Code != http.StatusUnauthorized {
		t.Fatalf("replay: %d, want 401", w.Code)
	}
	// Another Authenticator has its own cache.
	if w := serve(newAuthenticator(t).Wrap(s.handler()), authz); w.Code != http.StatusOK {
		t.Fatalf("other acceptor: %d", w.Code)
	}
}

func TestChannelBindingPolicies(t *testing.T) {
	t.Parallel()
	right, wrong := gss.TLSServerEndPoint(certA()), gss.TLSServerEndPoint(certB())
	type want struct {
		status      int
		sent, bound bool
	}
	for _, c := range []struct {
		policy   acceptor.ChannelBindingPolicy
		bindings []byte
		want     want
	}{
		{acceptor.BindingNone, nil, want{200, false, false}},
		{acceptor.BindingNone, wrong, want{200, true, false}},
		{acceptor.BindingRelaxed, nil, want{200, false, false}},
		{acceptor.BindingRelaxed, right, want{200, true, true}},
		{acceptor.BindingRelaxed, wrong, want{status: 401}},
		{acceptor.BindingStrict, nil, want{status: 401}},
		{acceptor.BindingStrict, right, want{200, true, true}},
		{acceptor.BindingStrict, wrong, want{status: 401}},
	} {
		name := fmt.Sprintf("%v/bindings=%v", c.policy, map[bool]string{true: "right", false: "wrong"}[bytes.Equal(c.bindings, right)])
		if c.bindings == nil {
			name = fmt.Sprintf("%v/no bindings", c.policy)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var s seen
			var cert *x509.Certificate
			if c.policy != acceptor.BindingNone {
				cert = certA()
			}
			h := newAuthenticator(t, acceptor.WithChannelBinding(c.policy, cert)).Wrap(s.handler())
			_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Flags: gss.FlagMutual, ChannelBindings: c.bindings})
			w := serve(h, authz)
			if w.Code != c.want.status {
				t.Fatalf("status %d, want %d", w.Code, c.want.status)
			}
			if w.Code != 200 {
				return
			}
			if id := s.get(); id.ChannelBindingsSent != c.want.sent || id.ChannelBound != c.want.bound {
				t.Fatalf("sent %v bound %v, want %v %v", id.ChannelBindingsSent, id.ChannelBound, c.want.sent, c.want.bound)
			}
		})
	}
}

// forwardedTGT forges the forwarded TGT a client would delegate.
func forwardedTGT(t testing.TB, client string) *ticket.Ticket {
	t.Helper()
	krbtgt := krbtest.NewService(t, "krbtgt/"+realm, realm)
	return krbtgt.Ticket(t, client, krbtest.WithFlags(flags.Forwardable, flags.Forwarded))
}

// delegating builds a token delegating cred for a fresh ticket of alice's.
func delegating(t testing.TB, cred *ticket.Ticket) string {
	t.Helper()
	tkt := service().Ticket(t, "alice")
	krbCred, err := gss.MarshalKRBCred(cred, tkt.SessionKey)
	if err != nil {
		t.Fatal(err)
	}
	_, authz := header(t, "Negotiate", "", gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagDelegate, Delegation: krbCred})
	return authz
}

func TestDelegatedCredentials(t *testing.T) {
	t.Parallel()
	var s seen
	h := newAuthenticator(t).Wrap(s.handler())
	tgt := forwardedTGT(t, "alice")
	if w := serve(h, delegating(t, tgt)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	id := s.get()
	if !id.Delegated || id.Flags&gss.FlagDelegate == 0 || id.Credentials == nil {
		t.Fatalf("identity %+v", id)
	}
	if id.Credentials.Principal() != "alice@"+realm {
		t.Fatalf("delegated source for %s", id.Credentials.Principal())
	}
	got, err := id.Credentials.TGT(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.SessionKey.KeyValue, tgt.SessionKey.KeyValue) || !bytes.Equal(got.Ticket.EncPart.Cipher, tgt.Ticket.EncPart.Cipher) {
		t.Fatal("the handler's TGT is not the one delegated")
	}

	// No delegation: no credentials.
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Flags: gss.FlagMutual})
	if w := serve(h, authz); w.Code != http.StatusOK || s.get().Delegated || s.get().Credentials != nil {
		t.Fatalf("undelegated: status %d identity %+v", w.Code, s.get())
	}
}

// TestDelegatedServiceTicket: a delegated ticket that is not a TGT still
// authenticates the client, but gives the handler no credentials, and the
// log says why.
func TestDelegatedServiceTicket(t *testing.T) {
	t.Parallel()
	var (
		s   seen
		log bytes.Buffer
	)
	h := newAuthenticator(t, acceptor.WithLogger(slog.New(slog.NewTextHandler(&log, nil)))).Wrap(s.handler())
	if w := serve(h, delegating(t, service().Ticket(t, "alice"))); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if id := s.get(); !id.Delegated || id.Credentials != nil {
		t.Fatalf("identity %+v", id)
	}
	if !strings.Contains(log.String(), "not a TGT") {
		t.Fatalf("log %q does not say why", log.String())
	}
}

// TestDelegationOfSomeoneElse: a client cannot hand over credentials of
// another user; the whole request is refused.
func TestDelegationOfSomeoneElse(t *testing.T) {
	t.Parallel()
	var s seen
	h := newAuthenticator(t).Wrap(s.handler())
	if w := serve(h, delegating(t, forwardedTGT(t, "bob"))); w.Code != http.StatusUnauthorized || s.get() != nil {
		t.Fatalf("status %d, handler saw %+v", w.Code, s.get())
	}
}

// client sends requests over one keep-alive connection.
func connClient(t *testing.T, srv *httptest.Server) func(authz string) *http.Response {
	t.Helper()
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	return func(authz string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
}

func startServer(t *testing.T, a *acceptor.Authenticator, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(a.Wrap(h))
	srv.Config.ConnContext = a.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestConnectionBound(t *testing.T) {
	t.Parallel()
	var s seen
	srv := startServer(t, newAuthenticator(t, acceptor.WithConnectionBound(true)), s.handler())
	do := connClient(t, srv)
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Flags: gss.FlagMutual})
	if resp := do(authz); resp.StatusCode != 200 || resp.Header.Get("Persistent-Auth") != "true" {
		t.Fatalf("first request: %d %v", resp.StatusCode, resp.Header)
	}
	for range 3 {
		if resp := do(""); resp.StatusCode != 200 || !s.get().ConnectionAuth || s.get().Principal != "alice@"+realm {
			t.Fatalf("later request on the connection: %d %+v", resp.StatusCode, s.get())
		}
	}
	// A failed attempt on the connection ends its authentication.
	if resp := do("Negotiate AAAA"); resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	if resp := do(""); resp.StatusCode != 401 {
		t.Fatalf("after a failed attempt: %d, want 401", resp.StatusCode)
	}
	// Another connection is not authenticated.
	if resp := connClient(t, srv)(""); resp.StatusCode != 401 {
		t.Fatalf("new connection: %d", resp.StatusCode)
	}
}

func TestPerRequest(t *testing.T) {
	t.Parallel()
	var s seen
	srv := startServer(t, newAuthenticator(t), s.handler())
	do := connClient(t, srv)
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Flags: gss.FlagMutual})
	if resp := do(authz); resp.StatusCode != 200 || resp.Header.Get("Persistent-Auth") != "" {
		t.Fatalf("first request: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := do(""); resp.StatusCode != 401 {
		t.Fatalf("second request without a token: %d, want 401", resp.StatusCode)
	}
}

func TestMalformedHeaders(t *testing.T) {
	t.Parallel()
	_, good := header(t, "Negotiate", "alice", gss.InitiatorConfig{})
	_, good2 := header(t, "Negotiate", "alice", gss.InitiatorConfig{})
	for _, c := range []struct {
		name   string
		authz  []string
		status int
	}{
		{"none", nil, 401},
		{"Basic", []string{"Basic YWxpY2U6c2VjcmV0"}, 401},
		{"NTLM", []string{"NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="}, 401},
		{"NTLM in Negotiate", []string{"Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="}, 401},
		{"scheme only", []string{"Negotiate"}, 401},
		{"empty", []string{""}, 401},
		{"not base64", []string{"Negotiate !!!!"}, 400},
		{"garbage token", []string{"Negotiate " + base64.StdEncoding.EncodeToString([]byte("garbage"))}, 401},
		{"oversized", []string{"Negotiate " + strings.Repeat("A", acceptor.DefaultMaxHeaderBytes)}, 400},
		{"two headers", []string{good, good2}, 400},
		{"extra spaces", []string{"  " + strings.Replace(good, " ", "   ", 1) + " "}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s seen
			h := newAuthenticator(t).Wrap(s.handler())
			w := serve(h, c.authz...)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if c.status == 401 && w.Header().Get("WWW-Authenticate") != "Negotiate" {
				t.Fatalf("401 without challenge: %v", w.Header())
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	kt := service().Keytab()
	if _, err := acceptor.New(nil); err == nil {
		t.Errorf("no keytab: accepted")
	}
	for name, opt := range map[string]acceptor.Option{
		"unknown policy":       acceptor.WithChannelBinding(7, certA()),
		"strict without cert":  acceptor.WithChannelBinding(acceptor.BindingStrict, nil),
		"relaxed without cert": acceptor.WithChannelBinding(acceptor.BindingRelaxed, nil),
		"negative cache":       acceptor.WithReplayCacheSize(-1),
		"negative header":      acceptor.WithMaxHeaderBytes(-1),
		"negative skew":        acceptor.WithMaxSkew(-time.Second),
		"unknown service":      acceptor.WithServicePrincipal("HTTP/nowhere.example.test"),
		"empty service":        acceptor.WithServicePrincipal(""),
		"service class only":   acceptor.WithServicePrincipal("HTTP"),
		"no realms":            acceptor.WithRealms(),
		"empty realm":          acceptor.WithRealms("EXAMPLE.TEST", ""),
		"nil krb5 config":      acceptor.WithConfig(nil),
		"nil clock":            acceptor.WithClock(nil),
	} {
		if _, err := acceptor.New(kt, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A skew above 5 minutes widens the replay window with it.
	if _, err := acceptor.New(kt, acceptor.WithMaxSkew(time.Hour)); err != nil {
		t.Errorf("one hour skew: %v", err)
	}
}

func TestPolicyString(t *testing.T) {
	t.Parallel()
	for p, want := range map[acceptor.ChannelBindingPolicy]string{
		acceptor.BindingNone: "none", acceptor.BindingRelaxed: "relaxed", acceptor.BindingStrict: "strict", 9: "ChannelBindingPolicy(9)",
	} {
		if p.String() != want {
			t.Errorf("%d: %q", int(p), p.String())
		}
	}
}

// FuzzWrap sends hostile Authorization headers through the middleware: it
// must answer 200, 400 or 401 and never panic, and only alice may come out
// authenticated. The seeds are genuine headers of every kind, so mutations
// reach the tokens.
func FuzzWrap(f *testing.F) {
	a := newAuthenticator(f, acceptor.WithChannelBinding(acceptor.BindingRelaxed, certA()), acceptor.WithReplayCacheSize(16))
	var s seen
	h := a.Wrap(s.handler())
	for _, format := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		_, v := header(f, "Negotiate", "alice", gss.InitiatorConfig{Format: format, Flags: gss.FlagMutual, ChannelBindings: gss.TLSServerEndPoint(certA())})
		f.Add(v, "")
		_, v = header(f, "Kerberos", "alice", gss.InitiatorConfig{Format: format})
		f.Add(v, "")
	}
	f.Add(delegating(f, forwardedTGT(f, "alice")), "")
	f.Add("Negotiate", "Negotiate")
	f.Add("Basic YWxpY2U6c2VjcmV0", "")
	f.Add("Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==", "")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		var authz []string
		for _, v := range []string{v1, v2} {
			if v != "" {
				authz = append(authz, v)
			}
		}
		w := serve(h, authz...)
		switch w.Code {
		case 200:
			if !strings.HasPrefix(w.Body.String(), "alice@"+realm) {
				t.Fatalf("authenticated %q", w.Body)
			}
		case 400, 401:
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

func ExampleAuthenticator_Wrap() {
	svc, err := krbtest.New("HTTP/web.example.test", "EXAMPLE.TEST")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Usually credentials.LoadKeytab("/etc/krb5.keytab") and the server's TLS
	// certificate for channel bindings.
	a, err := acceptor.New(svc.Keytab(),
		acceptor.WithConnectionBound(true),
		acceptor.WithChannelBinding(acceptor.BindingRelaxed, certA()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{
		Handler: a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := acceptor.IdentityFromContext(r.Context())
			if id.Credentials != nil {
				// The client delegated: auth.NewTransport(nil,
				// auth.WithCredentials(id.Credentials)) calls the next
				// service as the user.
				fmt.Fprintln(w, "delegated by", id.Credentials.Principal())
			}
			fmt.Fprintln(w, "hello", id.Principal, "channel bound:", id.ChannelBound)
		})),
		ConnContext: a.ConnContext, // for WithConnectionBound
	}
	_ = srv // srv.ListenAndServeTLS(...)

	// What a client sends; auth.Transport does this for Go clients.
	tkt, err := svc.NewTicket("alice")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, tok, _ := gss.NewInitiator(gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual, ChannelBindings: gss.TLSServerEndPoint(certA())})
	r := httptest.NewRequest(http.MethodGet, "https://web.example.test/", nil)
	r.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(tok))
	w := httptest.NewRecorder()
	srv.Handler.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body)
	// Output: 200 hello alice@EXAMPLE.TEST channel bound: true
}
