package integration

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/pykdcproxy"
)

// proxyOnlyConf writes a krb5.conf for the realm whose only KDC is the KDC
// proxy at url, trusted through http_anchors = FILE:caFile, and returns
// its path.
func proxyOnlyConf(t *testing.T, url, caFile string) string {
	t.Helper()
	r := env.realm.Realm
	conf := `[libdefaults]
	default_realm = ` + r + `
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	forwardable = true

[realms]
	` + r + ` = {
		kdc = ` + url + `
		http_anchors = FILE:` + caFile + `
	}

[domain_realm]
	localhost = ` + r + `
	127.0.0.1 = ` + r + `
`
	path := filepath.Join(t.TempDir(), "krb5-proxy.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runWith runs a command with the given KRB5_CONFIG and KRB5CCNAME (and
// stdin), returning its exit code and output.
func runWith(t *testing.T, krb5conf, ccache, stdin string, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "KRB5_CONFIG="+krb5conf, "KRB5CCNAME="+ccache)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestKrbcurlThroughPythonKDCProxy: a krb5.conf whose only KDC is
// python3-kdcproxy (the reference KDC proxy) in front of the MIT KDC;
// krbcurl gets 200 with a password login (AS and TGS through the proxy)
// and with a ccache login (TGS through the proxy), and the proxy's log
// shows each exchange.
func TestKrbcurlThroughPythonKDCProxy(t *testing.T) {
	t.Parallel()
	site := newTLSSite(t)
	py := pykdcproxy.Start(t, pykdcproxy.Config{
		Realms:   map[string]string{env.realm.Realm: env.realm.KDCAddr},
		CertFile: site.certFile, KeyFile: site.keyFile,
	})
	conf := proxyOnlyConf(t, py.URL, site.caFile)
	srv := startServer(t, env.httpKeytab, nil)
	user, pw := newUser(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	principal := env.realm.Principal(user)
	asBefore, _ := env.realm.ASCount(user)

	// Password: AS (twice: pre-authentication) and TGS through the proxy.
	none := "FILE:" + filepath.Join(t.TempDir(), "none")
	code, out, errOut := runWith(t, conf, none, "", krbcurl(t), "--principal", principal, "--password-file", pwFile, srv.URL)
	if code != 0 || !strings.HasPrefix(out, principal+" GET") {
		t.Fatalf("password login: exit %d, stdout %q, stderr %q\nproxy log:\n%s", code, out, errOut, py.Log())
	}
	as, tgs := py.Count(env.realm.Realm+" AS-REQ"), py.Count(env.realm.Realm+" TGS-REQ")
	if as < 2 || tgs != 1 || py.Count(`"POST /KdcProxy HTTP/1.1" 200`) != as+tgs {
		t.Fatalf("proxy saw %d AS-REQ, %d TGS-REQ:\n%s", as, tgs, py.Log())
	}
	if n, _ := env.realm.ASCount(user); n != asBefore+1 {
		t.Errorf("KDC log: %d AS exchanges for %s, want 1", n-asBefore, user)
	}

	// ccache: the TGT from kinit (straight to the KDC), the service ticket
	// through the proxy.
	cc := kinit(t, user)
	tgsBefore, _ := env.realm.TGSCount(user, "HTTP/localhost")
	code, out, errOut = runWith(t, conf, cc, "", krbcurl(t), srv.URL)
	if code != 0 || !strings.HasPrefix(out, principal+" GET") {
		t.Fatalf("ccache login: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := py.Count(env.realm.Realm + " TGS-REQ"); n != tgs+1 || py.Count(env.realm.Realm+" AS-REQ") != as {
		t.Fatalf("proxy log after the ccache login:\n%s", py.Log())
	}
	if n, _ := env.realm.TGSCount(user, "HTTP/localhost"); n != tgsBefore+1 {
		t.Errorf("KDC log: %d TGS exchanges for %s via the proxy, want 1", n-tgsBefore, user)
	}
	t.Logf("python3-kdcproxy log:\n%s", py.Log())

	// MIT's kinit and kvno (krb5-k5tls) read the same krb5.conf.
	mitCC := "FILE:" + filepath.Join(t.TempDir(), "mit")
	if code, out, errOut := runWith(t, conf, mitCC, pw+"\n", "kinit", principal); code != 0 {
		t.Fatalf("MIT kinit through python3-kdcproxy: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runWith(t, conf, mitCC, "", "kvno", "HTTP/localhost"); code != 0 {
		t.Fatalf("MIT kvno through python3-kdcproxy: %d %s %s", code, out, errOut)
	}
}

// TestOurKDCProxyForMIT: iislike --kdc-proxy serves MIT's kinit and kvno
// (krb5-k5tls) and this module's client; garbage gets 4xx and the proxy
// keeps serving; its log shows the AS and TGS exchanges.
func TestOurKDCProxyForMIT(t *testing.T) {
	t.Parallel()
	p := startIISLike(t, true, "--kdc-proxy", "-v")
	conf := proxyOnlyConf(t, p.URL+"/KdcProxy", p.CACert)
	user, pw := newUser(t)
	principal := env.realm.Principal(user)
	cc := "FILE:" + filepath.Join(t.TempDir(), "cc")
	if code, out, errOut := runWith(t, conf, cc, pw+"\n", "kinit", principal); code != 0 {
		t.Fatalf("kinit through iislike --kdc-proxy: %d %s %s\n%s", code, out, errOut, p.Log())
	}
	if code, out, errOut := runWith(t, conf, cc, "", "kvno", "HTTP/localhost"); code != 0 {
		t.Fatalf("kvno through iislike --kdc-proxy: %d %s %s\n%s", code, out, errOut, p.Log())
	}
	asLine := regexp.MustCompile(`msg=kdcproxy status=200 .*realm=` + regexp.QuoteMeta(env.realm.Realm) + ` type=AS-REQ`)
	tgsLine := regexp.MustCompile(`msg=kdcproxy status=200 .*realm=` + regexp.QuoteMeta(env.realm.Realm) + ` type=TGS-REQ`)
	if !asLine.MatchString(p.Log()) || !tgsLine.MatchString(p.Log()) {
		t.Fatalf("iislike log lacks the AS and TGS exchanges:\n%s", p.Log())
	}
	if n, _ := env.realm.TGSCount(user, "HTTP/localhost"); n != 1 {
		t.Errorf("KDC log: %d TGS exchanges for %s, want 1", n, user)
	}

	hc := &http.Client{Transport: p.base()}
	for name, c := range map[string]struct {
		method string
		body   []byte
		want   int
	}{
		"garbage":    {http.MethodPost, []byte("\x30\x82\xff\xff garbage"), 400},
		"HTTP":       {http.MethodPost, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
		"GET":        {http.MethodGet, nil, 405},
		"oversized":  {http.MethodPost, bytes.Repeat([]byte{0x30}, 200<<10), 413},
		"empty POST": {http.MethodPost, nil, 400},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), c.method, p.URL+"/KdcProxy", bytes.NewReader(c.body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, c.want)
		}
	}
	// Still serving: MIT again, and this module's client with the same
	// krb5.conf (password login through the proxy).
	if code, out, errOut := runWith(t, conf, cc, "", "kvno", "HTTP/127.0.0.1"); code != 0 {
		t.Fatalf("kvno after garbage: %d %s %s", code, out, errOut)
	}
	kc, err := krb5conf.LoadFiles(conf)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := auth.NewTransport(p.base(), auth.WithConfig(kc), auth.WithPrincipal(principal), auth.WithPassword(pw))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	w, _ := whoamiOK(t, &http.Client{Transport: tr}, p.URL)
	if w.Principal != principal {
		t.Fatalf("whoami %+v", w)
	}
}
