package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/integration/internal/mitpeer"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
)

// tlsSite is a certificate for localhost from a throwaway CA, with what
// clients need to trust it.
type tlsSite struct {
	cert     tls.Certificate
	caFile   string // PEM, for --cacert
	pool     *x509.CertPool
	certFile string
	keyFile  string
}

func newTLSSite(t testing.TB) *tlsSite {
	t.Helper()
	ca, err := testcert.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Server("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &tlsSite{cert: cert, caFile: filepath.Join(dir, "ca.pem"), pool: ca.Pool()}
	if err := testcert.WritePEM(s.caFile, ca.Cert); err != nil {
		t.Fatal(err)
	}
	if s.certFile, s.keyFile, err = testcert.WriteFiles(dir, "server", cert); err != nil {
		t.Fatal(err)
	}
	return s
}

// endPoint is the tls-server-end-point binding data of the site's
// certificate.
func (s *tlsSite) endPoint() []byte { return gss.TLSServerEndPoint(s.cert.Leaf) }

// tlsClient is client() over a base transport that trusts the site.
func (s *tlsSite) client(t *testing.T, opts ...auth.Option) *http.Client {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	t.Cleanup(base.CloseIdleConnections)
	tr, err := auth.NewTransport(base, append([]auth.Option{auth.WithConfig(env.conf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}
}

// startTLSServer runs our acceptor over HTTPS at localhost with the
// HTTP/localhost key, enforcing policy against boundTo (the site's own
// certificate unless a test wants a mismatch). The handler answers
// "<principal> bound=<bool>".
func startTLSServer(t *testing.T, site *tlsSite, policy acceptor.ChannelBindingPolicy, boundTo *x509.Certificate) (url string, hits *atomic.Int32) {
	t.Helper()
	kt, err := credentials.LoadKeytab(env.httpKeytab)
	if err != nil {
		t.Fatal(err)
	}
	if boundTo == nil {
		boundTo = site.cert.Leaf
	}
	a, err := acceptor.New(kt, acceptor.WithChannelBinding(policy, boundTo))
	if err != nil {
		t.Fatal(err)
	}
	hits = new(atomic.Int32)
	inner := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		fmt.Fprintf(w, "%s bound=%v", id.Principal, id.ChannelBound)
	}))
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		inner.ServeHTTP(w, r)
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{site.cert}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return strings.Replace(ts.URL, "127.0.0.1", "localhost", 1), hits
}

// TestStrictChannelBinding: a server requiring bindings accepts our
// client's for its certificate, and refuses them when it expects another
// certificate's, and refuses a client sending none.
func TestStrictChannelBinding(t *testing.T) {
	t.Parallel()
	site, other := newTLSSite(t), newTLSSite(t)
	cc := kinit(t, "alice")
	bound := env.realm.Principal("alice") + " bound=true"

	url, hits := startTLSServer(t, site, acceptor.BindingStrict, nil)
	if status, body := get(t, site.client(t, auth.WithCCache(cc)), url); status != 200 || body != bound {
		t.Fatalf("right certificate: %d %q", status, body)
	}
	if status, _ := get(t, site.client(t, auth.WithCCache(cc), auth.WithChannelBinding(false)), url); status != 401 {
		t.Fatalf("no bindings: %d, want 401", status)
	}

	// The first request of a preemptive client is bound too: no 401.
	hits.Store(0)
	if status, body := get(t, site.client(t, auth.WithCCache(cc), auth.WithPreemptive(auth.PreemptiveAlways)), url); status != 200 || body != bound || hits.Load() != 1 {
		t.Fatalf("preemptive: %d %q after %d requests, want 200 after 1", status, body, hits.Load())
	}

	wrong, _ := startTLSServer(t, site, acceptor.BindingStrict, other.cert.Leaf)
	if status, _ := get(t, site.client(t, auth.WithCCache(cc)), wrong); status != 401 {
		t.Fatalf("bindings of another certificate: %d, want 401", status)
	}
}

// TestKrbcurlChannelBinding: krbcurl binds by default and --no-cbt stops
// it, against our strict acceptor.
func TestKrbcurlChannelBinding(t *testing.T) {
	t.Parallel()
	site := newTLSSite(t)
	url, _ := startTLSServer(t, site, acceptor.BindingStrict, nil)
	bin, cc := krbcurl(t), kinit(t, "alice")
	code, out, errOut := runTool(t, cc, bin, "--cacert", site.caFile, "--fail", url)
	if code != 0 || out != env.realm.Principal("alice")+" bound=true" {
		t.Fatalf("exit %d, %q %s", code, out, errOut)
	}
	for _, args := range [][]string{{"--preemptive"}, {"--delegate"}} {
		code, out, errOut = runTool(t, cc, bin, append(args, "--cacert", site.caFile, "--fail", url)...)
		if code != 0 || !strings.HasSuffix(out, "bound=true") {
			t.Fatalf("%v: exit %d, %q %s", args, code, out, errOut)
		}
	}
	if code, _, errOut = runTool(t, cc, bin, "--no-cbt", "--cacert", site.caFile, "--fail", url); code != 22 {
		t.Fatalf("--no-cbt: exit %d (want 22 for the 401), %s", code, errOut)
	}
}

// TestMITAcceptorChecksOurBindings: MIT's acceptor over HTTPS, given the
// bindings of its certificate, accepts ours and marks the context channel
// bound; given another certificate's, it refuses ours; a client sending
// none passes (MIT does not require them).
func TestMITAcceptorChecksOurBindings(t *testing.T) {
	t.Parallel()
	site, other := newTLSSite(t), newTLSSite(t)
	cc := kinit(t, "alice")
	start := func(bindings []byte) *mitpeer.Server {
		return mitpeer.Start(t, mitpeer.Config{Keytab: env.httpKeytab, Krb5Config: env.realm.ConfigPath,
			CertFile: site.certFile, KeyFile: site.keyFile, ChannelBindings: bindings})
	}
	right, wrong := start(site.endPoint()), start(other.endPoint())

	for _, c := range []struct {
		name string
		opts []auth.Option
	}{
		{"SPNEGO", nil},
		{"raw krb5", []auth.Option{auth.WithRawKerberos()}},
		{"preemptive", []auth.Option{auth.WithPreemptive(auth.PreemptiveAlways)}},
	} {
		opts := append([]auth.Option{auth.WithCCache(cc)}, c.opts...)
		status, r := getMIT(t, site.client(t, opts...), right.URL)
		if status != 200 || r.Flags&mitpeer.FlagChannelBound == 0 || r.Initiator != env.realm.Principal("alice") {
			t.Fatalf("%s, matching bindings: %d %+v", c.name, status, r)
		}
		status, r = getMIT(t, site.client(t, opts...), wrong.URL)
		if status != 401 || !strings.Contains(r.Error, "Incorrect channel bindings") {
			t.Fatalf("%s, other certificate's bindings: %d %+v", c.name, status, r)
		}
	}
	status, r := getMIT(t, site.client(t, auth.WithCCache(cc), auth.WithChannelBinding(false)), wrong.URL)
	if status != 200 || r.Flags&mitpeer.FlagChannelBound != 0 {
		t.Fatalf("no bindings: %d %+v", status, r)
	}

	bin := krbcurl(t)
	if code, out, errOut := runTool(t, cc, bin, "--cacert", site.caFile, "--fail", right.URL); code != 0 || !strings.Contains(out, `"initiator": "alice@`) {
		t.Fatalf("krbcurl, matching bindings: exit %d, %s %s", code, out, errOut)
	}
	if code, _, errOut := runTool(t, cc, bin, "--cacert", site.caFile, "--fail", wrong.URL); code != 22 {
		t.Fatalf("krbcurl, other certificate's bindings: exit %d (want 22), %s", code, errOut)
	}
}
