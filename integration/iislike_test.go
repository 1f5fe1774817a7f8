package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
)

// iisProcess is the iislike command running as its own process.
type iisProcess struct {
	URL    string // scheme://localhost:port
	CACert string // PEM of the CA that signed its certificate, for HTTPS
	pool   *x509.CertPool
}

// startIISLike runs iislike with the HTTP/localhost keytab and extra
// flags; tls adds a certificate for localhost.
func startIISLike(t *testing.T, useTLS bool, flags ...string) *iisProcess {
	t.Helper()
	p := &iisProcess{}
	args := []string{"--keytab", env.httpKeytab}
	scheme := "http"
	if useTLS {
		site := newTLSSite(t)
		p.CACert, p.pool = site.caFile, site.pool
		args = append(args, "--tls-cert", site.certFile, "--tls-key", site.keyFile)
		scheme = "https"
	}
	// Port 0 and the address the server prints: a port picked here and
	// bound later could be taken by another test's server in between.
	cmd := exec.Command(tool(t, "github.com/krbhttp/krbhttp/integration/cmd/iislike"), append(append(args, "--listen", "127.0.0.1:0"), flags...)...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "iislike: serving on "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("iislike exited before serving")
		}
		_, port, _ := net.SplitHostPort(a)
		p.URL = scheme + "://localhost:" + port
	case <-time.After(10 * time.Second):
		t.Fatal("iislike did not start within 10 s")
	}
	return p
}

// base returns an HTTP/1.1 transport trusting the process's CA.
func (p *iisProcess) base() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var h1 http.Protocols
	h1.SetHTTP1(true)
	tr.Protocols = &h1
	if p.pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	}
	return tr
}

func (p *iisProcess) client(t *testing.T, opts ...auth.Option) *http.Client {
	t.Helper()
	tr, err := auth.NewTransport(p.base(), append([]auth.Option{auth.WithConfig(env.conf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// whoami gets /whoami from the IIS-like server at url and returns the
// response (body read) and what the server saw (zero unless the status is
// 200).
func whoami(t *testing.T, c *http.Client, url string) (*http.Response, iis.WhoAmI) {
	t.Helper()
	resp, body := getResponse(t, c, url+"/whoami")
	var saw iis.WhoAmI
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &saw); err != nil {
			t.Fatalf("GET %s/whoami: %v in %q", url, err, body)
		}
	}
	return resp, saw
}

// whoamiOK is whoami for a call that must succeed.
func whoamiOK(t *testing.T, c *http.Client, url string) (iis.WhoAmI, *http.Response) {
	t.Helper()
	resp, saw := whoami(t, c, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/whoami: status %d (%v)", url, resp.StatusCode, auth.ResponseError(resp))
	}
	return saw, resp
}

func TestIISLikeChallengesAsIISDoes(t *testing.T) {
	t.Parallel()
	p := startIISLike(t, false)
	resp, _ := getResponse(t, http.DefaultClient, p.URL+"/whoami")
	got := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != 401 || len(got) != 2 || got[0] != "Negotiate" || got[1] != "NTLM" || resp.Header.Get("Server") != iis.ServerHeader {
		t.Fatalf("status %d, challenges %q, server %q", resp.StatusCode, got, resp.Header.Get("Server"))
	}
	if status := rawGet(t, p.URL, "Negotiate "+strings.Repeat("A", iis.MaxHeaderBytes+1)); status != 400 {
		t.Fatalf("oversized Authorization: status %d, want 400", status)
	}
}

func TestIISLikePersistentAndPerRequest(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	for _, persistent := range []bool{true, false} {
		t.Run(fmt.Sprint("persistent=", persistent), func(t *testing.T) {
			p := startIISLike(t, false, fmt.Sprintf("--persistent-auth=%v", persistent))
			c := p.client(t, auth.WithCCache(cc))
			first, resp := whoamiOK(t, c, p.URL)
			if first.Principal != "alice@"+env.realm.Realm || first.ConnectionAuth || resp.Header.Get("Persistent-Auth") != map[bool]string{true: "true"}[persistent] {
				t.Fatalf("first: %+v, Persistent-Auth %q", first, resp.Header.Get("Persistent-Auth"))
			}
			second, _ := whoamiOK(t, c, p.URL)
			if second.ConnectionAuth != persistent || second.Principal != first.Principal {
				t.Fatalf("second: %+v, want connection_auth=%v", second, persistent)
			}
		})
	}
}

func TestIISLikeStrictChannelBinding(t *testing.T) {
	t.Parallel()
	p := startIISLike(t, true, "--cbt", "strict")
	cc := kinit(t, "alice")
	saw, _ := whoamiOK(t, p.client(t, auth.WithCCache(cc)), p.URL)
	if !saw.ChannelBound {
		t.Fatalf("server saw %+v, want channel_bound", saw)
	}
	if status, _ := get(t, p.client(t, auth.WithCCache(cc), auth.WithChannelBinding(false)), p.URL+"/whoami"); status != 401 {
		t.Fatalf("without channel binding: status %d, want 401", status)
	}
}

func TestIISLikePeers(t *testing.T) {
	t.Parallel()
	p := startIISLike(t, false)
	cc := kinit(t, "alice")
	code, out, errOut := runTool(t, cc, "curl", "-sS", "--negotiate", "-u", ":", p.URL+"/whoami")
	if code != 0 || !strings.Contains(out, `"principal":"alice@`+env.realm.Realm) {
		t.Fatalf("curl: exit %d, %q, %q", code, out, errOut)
	}
	script := `import sys, requests, requests_kerberos as rk
for pre in (False, True):
    a = rk.HTTPKerberosAuth(mutual_authentication=rk.REQUIRED, force_preemptive=pre)
    r = requests.get(sys.argv[1], auth=a)
    print(r.status_code, len(r.history), r.json()["principal"])`
	code, out, errOut = runTool(t, cc, "/usr/bin/python3", "-c", script, p.URL+"/whoami")
	want := fmt.Sprintf("200 1 alice@%[1]s\n200 0 alice@%[1]s\n", env.realm.Realm)
	if code != 0 || out != want {
		t.Fatalf("requests-kerberos: exit %d, %q (want %q), %q", code, out, want, errOut)
	}
}

// authzSpy keeps the Authorization values sent through it.
type authzSpy struct {
	base http.RoundTripper
	mu   sync.Mutex
	sent []string
}

func (s *authzSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if v := r.Header.Get("Authorization"); v != "" {
		s.mu.Lock()
		s.sent = append(s.sent, v)
		s.mu.Unlock()
	}
	return s.base.RoundTrip(r)
}

func TestIISLikeRefusesReplayedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	// A one-second skew: MIT and Windows accept a ticket up to the skew
	// past its end time, and the test should not wait five minutes.
	p := startIISLike(t, false, "--persistent-auth=false", "--clock-skew", "1s")
	spy := &authzSpy{base: p.base()}
	tr, err := auth.NewTransport(spy, auth.WithConfig(env.conf), auth.WithCCache(kinit(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	whoamiOK(t, &http.Client{Transport: tr}, p.URL)
	if len(spy.sent) != 1 {
		t.Fatalf("%d tokens sent, want 1", len(spy.sent))
	}
	if status := rawGet(t, p.URL, spy.sent[0]); status != 401 {
		t.Fatalf("replayed Authorization: status %d, want 401", status)
	}

	// A token built from a service ticket that has expired.
	user, _ := newUser(t)
	cc := "FILE:" + filepath.Join(t.TempDir(), "short")
	env.realm.Kinit(t, user, cc, "-l", "2s")
	short, err := credentials.NewCCacheSource(env.conf, cc, "")
	if err != nil {
		t.Fatal(err)
	}
	tkt, err := short.ServiceTicket(context.Background(), "HTTP/localhost")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(tkt.EndTime) + 2*time.Second)
	_, tok, err := gss.NewInitiator(gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagSequence})
	if err != nil {
		t.Fatal(err)
	}
	if status := rawGet(t, p.URL, "Negotiate "+base64.StdEncoding.EncodeToString(tok)); status != 401 {
		t.Fatalf("token from an expired ticket: status %d, want 401", status)
	}
}

func rawGet(t *testing.T, url, authz string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/whoami", nil)
	req.Header.Set("Authorization", authz)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestIISLikeBurstIsOneTGSRequestPerSPN(t *testing.T) {
	t.Parallel()
	user, password := newUser(t)
	p := startIISLike(t, false, "--persistent-auth=false")
	c := p.client(t, auth.WithPrincipal(user), auth.WithPassword(password))
	burst(t, c, p.URL+"/whoami", 50, 20)
	n, err := env.realm.TGSCount(user+"@"+env.realm.Realm, "HTTP/localhost@"+env.realm.Realm)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("1,000 requests over 50 goroutines made %d TGS requests for HTTP/localhost, want 1", n)
	}
}

// The double hop through the iislike process: each client delegates, and
// the server reports it got a service ticket as alice with the forwarded
// TGT (delegation_usable).
func TestIISLikeDelegation(t *testing.T) {
	t.Parallel()
	p := startIISLike(t, false)
	cc := kinit(t, "alice")
	saw, _ := whoamiOK(t, p.client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegateAlways)), p.URL)
	if !saw.Delegated || !saw.DelegationUsable {
		t.Fatalf("our client: server saw %+v, want a usable delegation", saw)
	}
	code, out, errOut := runTool(t, cc, "curl", "-sS", "--negotiate", "-u", ":", "--delegation", "always", p.URL+"/whoami")
	if code != 0 || !strings.Contains(out, `"delegated":true,"delegation_usable":true`) {
		t.Fatalf("curl --delegation always: exit %d, %q, %q", code, out, errOut)
	}
	script := `import sys, requests, requests_kerberos as rk
r = requests.get(sys.argv[1], auth=rk.HTTPKerberosAuth(mutual_authentication=rk.REQUIRED, delegate=True))
j = r.json()
print(r.status_code, j["delegated"], j["delegation_usable"])`
	code, out, errOut = runTool(t, cc, "/usr/bin/python3", "-c", script, p.URL+"/whoami")
	if code != 0 || out != "200 True True\n" {
		t.Fatalf("requests-kerberos delegate=True: exit %d, %q, %q", code, out, errOut)
	}
}

// winrs runs commands on the iislike process's /wsman: over HTTP with
// Kerberos message encryption, and over HTTPS with channel binding.
func TestWinrsAgainstIISLike(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	plain := startIISLike(t, false)
	code, out, errOut := winrs(t, cc, "", "-r", plain.URL+"/wsman", "--encryption", "always", "--", "echo encrypted; exit 3")
	if code != 3 || out != "encrypted\n" {
		t.Fatalf("winrs over http: exit %d, %q, %q", code, out, errOut)
	}
	secure := startIISLike(t, true, "--cbt", "strict")
	code, out, errOut = winrs(t, cc, "from stdin", "-r", secure.URL+"/wsman", "--cacert", secure.CACert, "--", "cat")
	if code != 0 || out != "from stdin" {
		t.Fatalf("winrs over https: exit %d, %q, %q", code, out, errOut)
	}
}
