package integration

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/integration/internal/squid"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
)

// The proxy tests put a real Squid, which authenticates its clients with
// Negotiate (negotiate_kerberos_auth, MIT GSSAPI) as HTTP/127.0.0.1,
// between the clients and servers named web.krbhttp.test (HTTP/web...),
// which the proxy alone resolves (to 127.0.0.1): the two service
// principals differ, and Go's ProxyFromEnvironment, which never proxies
// localhost, proxies them.

const proxiedHost = "web.krbhttp.test"

// startSquid runs Squid requiring Negotiate (or, open, requiring nothing).
func startSquid(t *testing.T, open bool) *squid.Proxy {
	t.Helper()
	return squid.Start(t, squid.Config{
		Keytab: env.ipKeytab, Krb5Config: env.realm.ConfigPath,
		SPN: "HTTP/127.0.0.1@" + env.realm.Realm, Hosts: []string{proxiedHost}, Open: open,
	})
}

// proxiedSite is iislike as web.krbhttp.test over http and https.
type proxiedSite struct {
	http, https string // base URLs through the proxy's names
	caFile      string
	ca          *testcert.CA
}

func startProxiedSite(t *testing.T) *proxiedSite {
	t.Helper()
	ca, err := testcert.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Server(proxiedHost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &proxiedSite{caFile: filepath.Join(dir, "ca.pem"), ca: ca}
	if err := testcert.WritePEM(s.caFile, ca.Cert); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := testcert.WriteFiles(dir, "server", cert)
	if err != nil {
		t.Fatal(err)
	}
	plain := startIISLike(t, false, "--keytab", env.webKeytab)
	tlsd := startIISLike(t, false, "--keytab", env.webKeytab, "--tls-cert", certFile, "--tls-key", keyFile)
	s.http = strings.Replace(plain.URL, "localhost", proxiedHost, 1)
	s.https = strings.Replace(strings.Replace(tlsd.URL, "http://", "https://", 1), "localhost", proxiedHost, 1)
	return s
}

// proxiedClient is an auth client whose base goes through proxy and
// trusts the site's CA; connect, when not nil, sees every CONNECT.
func proxiedClient(t *testing.T, site *proxiedSite, proxy string, connect func(*http.Request, *http.Response), opts ...auth.Option) *http.Client {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	var h1 http.Protocols
	h1.SetHTTP1(true)
	base.Protocols = &h1
	base.TLSClientConfig = &tls.Config{RootCAs: site.ca.Pool(), MinVersion: tls.VersionTLS12}
	u, err := url.Parse(proxy)
	if err != nil {
		t.Fatal(err)
	}
	base.Proxy = http.ProxyURL(u)
	if connect != nil {
		base.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, req *http.Request, resp *http.Response) error {
			connect(req, resp)
			return nil
		}
	}
	tr, err := auth.NewTransport(base, append([]auth.Option{auth.WithConfig(env.conf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// accessLogHas waits briefly for Squid's log line (written as the request
// ends) that contains every part.
func accessLogHas(t *testing.T, p *squid.Proxy, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(p.AccessLog(), "\n") {
			ok := true
			for _, part := range parts {
				ok = ok && strings.Contains(line, part)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access log line with %q:\n%s", parts, p.AccessLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestProxySquid: through Squid requiring Negotiate, the transport
// answers the proxy's 407 and then the server's 401 over plain http, and
// authenticates the CONNECT and then the server inside the tunnel over
// https; Squid logs alice for both, and the server sees alice.
func TestProxySquid(t *testing.T) {
	t.Parallel()
	p := startSquid(t, false)
	site := startProxiedSite(t)
	cc := kinit(t, "alice")
	var mu sync.Mutex
	var connects []string
	user := "alice@" + env.realm.Realm
	// A client for each scheme, so that each meets the proxy's first 407.
	for _, base := range []string{site.http, site.https} {
		c := proxiedClient(t, site, p.URL, func(req *http.Request, resp *http.Response) {
			mu.Lock()
			defer mu.Unlock()
			connects = append(connects, fmt.Sprintf("%d %t", resp.StatusCode, req.Header.Get("Proxy-Authorization") != ""))
		}, auth.WithCCache(cc))
		for i := range 2 {
			status, body := get(t, c, base+"/whoami")
			if status != 200 || !strings.Contains(body, `"principal":"`+user+`"`) {
				t.Fatalf("GET %s/whoami (%d): %d %q\n%s", base, i, status, body, p.Logs())
			}
		}
		// Squid logs a tunnel when it closes.
		c.CloseIdleConnections()
	}
	// The first request met 407, then 401: both were answered.
	accessLogHas(t, p, "TCP_DENIED/407", "GET "+site.http+"/whoami", " - ")
	accessLogHas(t, p, "TCP_MISS/401", "GET "+site.http+"/whoami", user)
	accessLogHas(t, p, "TCP_MISS/200", "GET "+site.http+"/whoami", user)
	accessLogHas(t, p, "TCP_TUNNEL/200", "CONNECT "+strings.TrimPrefix(site.https, "https://"), user)
	mu.Lock()
	defer mu.Unlock()
	// One tunnel: the first CONNECT went without a token and got 407,
	// the second carried one.
	if len(connects) != 2 || connects[0] != "407 false" || connects[1] != "200 true" {
		t.Errorf("CONNECTs (status, token sent): %q", connects)
	}
}

// TestProxySquidUnauthenticatedTarget: a server without authentication
// behind the authenticating proxy: the proxy gets its token, the server
// none is asked for. (Under the default MutualRequired a 200 that proves
// no server is refused, proxy or not: such a server is reached with
// MutualOptional.)
func TestProxySquidUnauthenticatedTarget(t *testing.T) {
	t.Parallel()
	p := startSquid(t, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "authorization=%q proxy-authorization=%q", r.Header.Get("Authorization"), r.Header.Get("Proxy-Authorization"))
	}))
	t.Cleanup(srv.Close)
	target := strings.Replace(srv.URL, "127.0.0.1", proxiedHost, 1)
	c := proxiedClient(t, &proxiedSite{ca: mustCA(t)}, p.URL, nil, auth.WithCCache(kinit(t, "alice")), auth.WithMutualAuthentication(auth.MutualOptional))
	status, body := get(t, c, target+"/open")
	// Squid consumes the proxy's credentials; the server sees neither.
	if status != 200 || body != `authorization="" proxy-authorization=""` {
		t.Fatalf("GET through the proxy: %d %q", status, body)
	}
	accessLogHas(t, p, "GET "+target+"/open", "alice@"+env.realm.Realm)

	// The same with krbcurl -x.
	cmd := exec.Command(krbcurl(t), "-x", p.URL, "--mutual", "optional", "--fail", target+"/krbcurl")
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+kinit(t, "alice"))
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != `authorization="" proxy-authorization=""` {
		t.Fatalf("krbcurl -x to a server without authentication: %v, %q", err, out)
	}
	accessLogHas(t, p, "GET "+target+"/krbcurl", "alice@"+env.realm.Realm)
}

func mustCA(t *testing.T) *testcert.CA {
	ca, err := testcert.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestProxySquidNoTicket: without a ticket the proxy's 407 cannot be
// answered: a *ProxyAuthError naming the proxy, over http and https.
func TestProxySquidNoTicket(t *testing.T) {
	t.Parallel()
	p := startSquid(t, false)
	site := startProxiedSite(t)
	c := proxiedClient(t, site, p.URL, nil, auth.WithCCache("FILE:"+filepath.Join(t.TempDir(), "none")))
	for _, target := range []string{site.http, site.https} {
		resp, err := c.Get(target + "/whoami")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s without a ticket: %s", target, resp.Status)
		}
		var pe *auth.ProxyAuthError
		if !errors.As(err, &pe) || !errors.Is(err, auth.ErrProxyAuth) || pe.SPN != "HTTP/127.0.0.1" || !strings.Contains(err.Error(), p.URL) {
			t.Fatalf("GET %s without a ticket: %v", target, err)
		}
	}
}

// TestProxySquidOpenConnect: a proxy that lets CONNECT through without
// asking is sent no token.
func TestProxySquidOpenConnect(t *testing.T) {
	t.Parallel()
	p := startSquid(t, true)
	site := startProxiedSite(t)
	var tokens, connects int
	var mu sync.Mutex
	c := proxiedClient(t, site, p.URL, func(req *http.Request, _ *http.Response) {
		mu.Lock()
		defer mu.Unlock()
		connects++
		if req.Header.Get("Proxy-Authorization") != "" {
			tokens++
		}
	}, auth.WithCCache(kinit(t, "alice")))
	for _, target := range []string{site.http, site.https} {
		if status, body := get(t, c, target+"/whoami"); status != 200 || !strings.Contains(body, `"principal":"alice@`) {
			t.Fatalf("GET %s: %d %q", target, status, body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if connects != 1 || tokens != 0 {
		t.Fatalf("%d CONNECTs, %d with a token", connects, tokens)
	}
}

// TestProxySquidKrbcurl: krbcurl -x (and HTTPS_PROXY instead) through
// Squid to the http and https servers, and curl --proxy-negotiate against
// the same proxy for comparison; without a ticket, exit 11 naming the
// proxy.
func TestProxySquidKrbcurl(t *testing.T) {
	t.Parallel()
	p := startSquid(t, false)
	site := startProxiedSite(t)
	cc := kinit(t, "alice")
	user := "alice@" + env.realm.Realm
	run := func(name string, extraEnv []string, args ...string) (int, string, string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+cc,
			"HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=", "NO_PROXY=", "no_proxy="), extraEnv...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stdout.String(), stderr.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, stdout.String(), stderr.String()
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"krbcurl -x http", nil, []string{"-x", p.URL, site.http + "/whoami?krbcurl-x"}},
		{"krbcurl --proxy https", nil, []string{"--proxy", p.URL, "--cacert", site.caFile, site.https + "/whoami?krbcurl-x"}},
		{"krbcurl HTTP_PROXY", []string{"HTTP_PROXY=" + p.URL}, []string{site.http + "/whoami?krbcurl-env"}},
		{"krbcurl HTTPS_PROXY", []string{"HTTPS_PROXY=" + p.URL}, []string{"--cacert", site.caFile, site.https + "/whoami?krbcurl-env"}},
		{"curl", nil, []string{"curl", "-sS", "--proxy", p.URL, "--proxy-negotiate", "-U", ":", "--negotiate", "-u", ":", site.http + "/whoami?curl"}},
		{"curl https", nil, []string{"curl", "-sS", "--cacert", site.caFile, "--proxy", p.URL, "--proxy-negotiate", "-U", ":", "--negotiate", "-u", ":", site.https + "/whoami?curl"}},
	} {
		name, args := krbcurl(t), c.args
		if args[0] == "curl" {
			name, args = "curl", args[1:]
		}
		code, out, errOut := run(name, c.env, append([]string{"--fail"}, args...)...)
		if code != 0 || !strings.Contains(out, `"principal":"`+user+`"`) {
			t.Fatalf("%s: exit %d, %q %s\n%s", c.name, code, out, errOut, p.Logs())
		}
	}
	accessLogHas(t, p, "GET "+site.http+"/whoami?krbcurl-x", user)
	accessLogHas(t, p, "GET "+site.http+"/whoami?krbcurl-env", user)
	accessLogHas(t, p, "GET "+site.http+"/whoami?curl", user)
	accessLogHas(t, p, "TCP_TUNNEL/200", "CONNECT "+strings.TrimPrefix(site.https, "https://"), user)

	// --noproxy '*': straight to the server, which the client cannot
	// resolve: a connection error, not a proxy's answer.
	if code, _, errOut := run(krbcurl(t), nil, "-x", p.URL, "--noproxy", "*", site.http+"/whoami"); code != 1 || !strings.Contains(errOut, proxiedHost) {
		t.Errorf("--noproxy '*': exit %d, %s", code, errOut)
	}
	cc = "FILE:" + filepath.Join(t.TempDir(), "none")
	for _, target := range []string{site.http, site.https} {
		code, _, errOut := run(krbcurl(t), nil, "-x", p.URL, "--cacert", site.caFile, target+"/whoami")
		if code != 11 || !strings.Contains(errOut, "407") || !strings.Contains(errOut, p.URL) {
			t.Errorf("no ticket, %s: exit %d, %s", target, code, errOut)
		}
	}
}

// TestProxySquidWinrs: winrs --proxy runs a command through Squid over
// http with Kerberos message encryption (Squid keeps the client's
// connection pinned to the server's, as message encryption needs) and
// over https with channel bindings the server requires (CONNECT).
func TestProxySquidWinrs(t *testing.T) {
	t.Parallel()
	p := startSquid(t, false)
	cc := kinit(t, "alice")
	httpEP := startWinRM(t, winrmSetup{})
	httpsEP := startWinRM(t, winrmSetup{tls: true, binding: acceptor.BindingStrict})
	for _, c := range []struct {
		name string
		args []string
	}{
		{"http, encrypted", []string{"-r", httpEP.URL, "--encryption", "always"}},
		{"https, bound", []string{"-r", httpsEP.URL, "--cacert", httpsEP.site.caFile}},
	} {
		args := append(append([]string{"--proxy", p.URL}, c.args...), "--", "cat")
		code, stdout, stderr := winrs(t, cc, "through the proxy\n", args...)
		if code != 0 || stdout != "through the proxy\n" {
			t.Fatalf("%s: winrs --proxy: exit %d, %q %s\n%s", c.name, code, stdout, stderr, p.Logs())
		}
	}
	user := "alice@" + env.realm.Realm
	accessLogHas(t, p, "POST "+httpEP.URL, user)
	accessLogHas(t, p, "CONNECT "+strings.TrimPrefix(httpsEP.URL[:strings.LastIndex(httpsEP.URL, "/")], "https://"), user)
}

// TestComposeProxy: the lab's proxy (compose service proxy, Squid
// requiring Negotiate as HTTP/proxy.example.test) between the lab user and
// the lab's IIS-like server (iis.example.test, which the proxy resolves),
// over http and through CONNECT; the proxy's access log names the user.
// KRBHTTP_LAB_PROXY names the proxy, KRBHTTP_LAB_PROXY_ADDR is where to
// reach it when that name does not resolve (a published port on the
// host), KRBHTTP_LAB_PROXY_LOG_CMD prints its access log (default: the
// file in the lab volume). scripts/compose-test.sh sets them for its run
// from the host.
func TestComposeProxy(t *testing.T) {
	proxy := os.Getenv("KRBHTTP_LAB_PROXY")
	if proxy == "" {
		t.Skip("the lab's proxy: set KRBHTTP_LAB_PROXY (scripts/compose-test.sh does)")
	}
	l := newComposeLab(t)
	u, err := url.Parse(proxy)
	if err != nil {
		t.Fatal(err)
	}
	base := l.base(t)
	base.Proxy = http.ProxyURL(u)
	if addr := os.Getenv("KRBHTTP_LAB_PROXY_ADDR"); addr != "" {
		// The proxy keeps its name (and so its SPN); only the dial goes
		// to the published port.
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		base.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
			if a == u.Host {
				a = addr
			}
			return dialer.DialContext(ctx, network, a)
		}
	}
	tr, err := auth.NewTransport(base, auth.WithConfig(l.conf), auth.WithPrincipal(labUser+"@"+l.realm), auth.WithPassword(labUserPassword))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	user := labUser + "@" + l.realm
	target := getenv("KRBHTTP_LAB_PROXY_TARGET", "iis.example.test")
	logCmd := getenv("KRBHTTP_LAB_PROXY_LOG_CMD", "cat /lab/squid/access.log")
	accessLog := func() string {
		out, err := exec.Command("sh", "-c", logCmd).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", logCmd, err, out)
		}
		return string(out)
	}
	// On the host lab the https server has a port of its own.
	tlsTarget := getenv("KRBHTTP_LAB_PROXY_TLS_TARGET", target)
	for _, scheme := range []string{"http", "https"} {
		to := target
		if scheme == "https" {
			to = tlsTarget
		}
		resp, err := c.Get(scheme + "://" + to + "/whoami?through-the-lab-proxy")
		if err != nil {
			t.Fatalf("through %s: %v\n%s", proxy, err, accessLog())
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"principal":"`+user+`"`) {
			t.Fatalf("GET %s://%s through %s: %s %q", scheme, to, proxy, resp.Status, body)
		}
	}
	tr.CloseIdleConnections() // Squid logs a tunnel when it closes
	tunnel := tlsTarget
	if _, _, err := net.SplitHostPort(tunnel); err != nil {
		tunnel += ":443"
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := accessLog()
		if strings.Contains(log, "GET http://"+target+"/whoami?through-the-lab-proxy "+user) &&
			strings.Contains(log, "CONNECT "+tunnel+" "+user) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy's access log does not name %s for both requests:\n%s", user, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
