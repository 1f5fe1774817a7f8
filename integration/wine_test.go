package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/integration/internal/apache"
	"github.com/krbhttp/krbhttp/integration/internal/wine"
)

// The Windows builds of the commands run under Wine, whose SSPI Kerberos
// package works on the host's MIT libraries: a kinit on the host is the
// Windows logon. One prefix serves the whole test binary.
var sharedWine shared[*wine.Prefix]

func startWine(t *testing.T) *wine.Prefix {
	t.Helper()
	return sharedWine.get(t, func() (*wine.Prefix, func(), error) {
		dir, err := os.MkdirTemp("", "krbhttp-wine-")
		if err != nil {
			return nil, nil, err
		}
		p, err := wine.New(dir)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, nil, err
		}
		return p, func() { p.Close(); _ = os.RemoveAll(dir) }, nil
	})
}

// wineCache logs alice in on the host into a new cache of the given MIT
// type (FILE, KEYRING or KCM), which Wine's Kerberos then reads.
func wineCache(t *testing.T, kind string) string {
	t.Helper()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	var cc string
	switch kind {
	case "FILE":
		cc = "FILE:" + t.TempDir() + "/ccache"
	case "KEYRING":
		// The session keyring, which the test binary, kinit and Wine
		// share; a name of its own per test, destroyed afterwards.
		cc = "KEYRING:session:krbhttp-wine-" + hex.EncodeToString(suffix)
		t.Cleanup(func() {
			cmd := exec.Command("kdestroy", "-c", cc)
			cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath)
			_ = cmd.Run()
		})
	case "KCM":
		// The suite's sssd_kcm, named by the realm's krb5.conf
		// (kcm_socket), which Wine's MIT library reads as kinit does.
		// kinit makes alice's new cache the collection's primary: "KCM:"
		// is that cache. The other tests that switch the primary
		// (ccache_test.go) are sequential: they are over before this
		// parallel test runs.
		kcmDaemon(t)
		cc = "KCM:"
	default:
		t.Fatalf("cache type %s", kind)
	}
	env.realm.Kinit(t, "alice", cc)
	return cc
}

// runWine runs a Windows program under Wine with the realm's krb5.conf
// and ccache as the "logged-on user's" cache, and returns its exit code
// and output.
func runWine(t *testing.T, p *wine.Prefix, ccache, exe string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := p.Command(ctx, exe, args...)
	cmd.Env = append(cmd.Env, "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+ccache)
	return runCommand(t, cmd)
}

// winePath names a host file for a Windows program under Wine: drive Z:
// is the host's root in every prefix.
func winePath(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

// corruptingProxy forwards to target and flips one bit inside the
// server's Negotiate token, in its encrypted part: the AP-REP still
// parses, its checksum no longer verifies.
func corruptingProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		v, ok := strings.CutPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate ")
		if !ok || resp.StatusCode == http.StatusUnauthorized {
			return nil
		}
		tok, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(tok) < 20 {
			return nil
		}
		tok[len(tok)-10] ^= 0x01
		resp.Header.Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(tok))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	// The SPN stays HTTP/localhost: the proxy listens on 127.0.0.1.
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

// TestWineKrbcurlLoggedOnUser: krbcurl.exe given no credentials uses
// SSPI, as on a Windows workstation; under Wine that is MIT's library on
// the cache the host's kinit filled. Against Apache mod_auth_gssapi and
// the IIS-like server it gets 200 with mutual authentication (required
// by default: exit 0 means the reply token verified) and exits 10 on a
// corrupted reply token, as on Linux, for a FILE, a KEYRING and a KCM
// cache.
func TestWineKrbcurlLoggedOnUser(t *testing.T) {
	t.Parallel()
	exe := windowsTool(t, "github.com/krbhttp/krbhttp/auth/cmd/krbcurl")
	p := startWine(t)
	a := startApache(t)
	iisp := startIISLike(t, false)
	corrupted := corruptingProxy(t, iisp.URL)
	for _, kind := range []string{"FILE", "KEYRING", "KCM"} {
		t.Run(kind, func(t *testing.T) {
			cc := wineCache(t, kind)

			code, out, errOut := runWine(t, p, cc, exe, "-i", "-v", a.URL+apache.PathProtected)
			if code != 0 || !strings.Contains(out, "hello from apache") || !strings.Contains(out, "X-Remote-User: alice@") {
				t.Fatalf("apache: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if !strings.Contains(errOut, "token from SSPI") || !strings.Contains(errOut, "server authenticated") {
				t.Fatalf("apache: not through SSPI with a verified reply: %q", errOut)
			}
			// Wine's MIT stored the service ticket it got in the cache:
			// the logon Wine used is this cache, not another one.
			if out, err := env.realm.Klist("-c", cc); err != nil || !strings.Contains(out, env.realm.Principal("HTTP/localhost")) {
				t.Fatalf("klist -c %s after krbcurl.exe does not list HTTP/localhost: %v\n%s", cc, err, out)
			}
			code, _, errOut = runWine(t, p, cc, exe, a.URL+apache.PathCorrupt)
			if code != 10 || !strings.Contains(errOut, "mutual authentication") {
				t.Fatalf("apache, corrupted token: exit %d (want 10), stderr %q", code, errOut)
			}

			code, out, errOut = runWine(t, p, cc, exe, "-v", iisp.URL+"/whoami")
			if code != 0 || !strings.Contains(out, `"principal":"alice@`) || !strings.Contains(errOut, "token from SSPI") {
				t.Fatalf("iislike: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			// WithRawKerberos: the Kerberos package.
			code, out, errOut = runWine(t, p, cc, exe, "-v", "--raw-krb5", iisp.URL+"/whoami")
			if code != 0 || !strings.Contains(out, `"principal":"alice@`) || !strings.Contains(errOut, "package=Kerberos") {
				t.Fatalf("iislike, raw Kerberos: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			code, _, errOut = runWine(t, p, cc, exe, corrupted+"/whoami")
			if code != 10 || !strings.Contains(errOut, "mutual authentication") {
				t.Fatalf("iislike, corrupted token: exit %d (want 10), stderr %q", code, errOut)
			}
		})
	}
}

// TestWineSSPIFeatures records what Wine 8's SSPI Kerberos package does
// with the rest of what the transport asks of SSPI. Delegation: it hands
// ISC_REQ_DELEGATE to MIT as GSS_C_DELEG_FLAG, so the IIS-like server
// receives a forwarded TGT. Channel bindings: it calls
// gss_init_sec_context with GSS_C_NO_CHANNEL_BINDINGS whatever
// SECBUFFER_CHANNEL_BINDINGS holds, so over HTTPS the token is not
// channel-bound (a server that insists on bindings refuses it); the
// SEC_CHANNEL_BINDINGS the transport builds is checked against the GSS
// checksum by auth/internal/sspi's unit tests instead.
func TestWineSSPIFeatures(t *testing.T) {
	t.Parallel()
	exe := windowsTool(t, "github.com/krbhttp/krbhttp/auth/cmd/krbcurl")
	p := startWine(t)
	cc := wineCache(t, "FILE")

	plain := startIISLike(t, false)
	code, out, errOut := runWine(t, p, cc, exe, "--delegate", plain.URL+"/whoami")
	if code != 0 || !strings.Contains(out, `"delegated":true`) {
		t.Fatalf("delegation: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	secure := startIISLike(t, true, "--cbt", "relaxed")
	code, out, errOut = runWine(t, p, cc, exe, "--cacert", winePath(secure.CACert), secure.URL+"/whoami")
	if code != 0 || !strings.Contains(out, `"principal":"alice@`) || !strings.Contains(out, `"channel_bound":false`) {
		t.Fatalf("https: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	strict := startIISLike(t, true, "--cbt", "strict")
	code, out, errOut = runWine(t, p, cc, exe, "-i", "--cacert", winePath(strict.CACert), strict.URL+"/whoami")
	if code != 0 || !strings.HasPrefix(out, "HTTP/1.1 401") {
		t.Fatalf("https, bindings required: exit %d, stdout %q, stderr %q (Wine now sends channel bindings? update the README's Windows section)", code, out, errOut)
	}
}

// TestWineWinrs: winrs.exe with no credential options runs a command on
// the IIS-like server's WinRM endpoint over HTTP with Kerberos message
// encryption: the context is SSPI's and every envelope is sealed and
// opened with Wine's EncryptMessage and DecryptMessage (MIT's gss_wrap
// and gss_unwrap underneath, in their own buffer layout), which the
// server's pure-Go acceptor opens and answers.
func TestWineWinrs(t *testing.T) {
	t.Parallel()
	exe := windowsTool(t, "github.com/krbhttp/krbhttp/wsman/cmd/winrs")
	p := startWine(t)
	cc := wineCache(t, "FILE")
	plain := startIISLike(t, false)
	code, out, errOut := runWine(t, p, cc, exe, "-v", "-r", plain.URL+"/wsman", "--encryption", "always", "--",
		"echo sealed by SSPI; echo to stderr >&2; exit 3")
	if code != 3 || out != "sealed by SSPI\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, want := range []string{"token from SSPI", "protocol=application/HTTP-SPNEGO-session-encrypted", "to stderr"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("stderr lacks %q: %q", want, errOut)
		}
	}
}

// tamperingProxy forwards TCP connections to target's host and port,
// flipping one byte (see tamperingConn) of what the server sends after
// the encryption setup's response on each of them.
func tamperingProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			go func() {
				defer client.Close()
				server, err := net.Dial("tcp", u.Host)
				if err != nil {
					return
				}
				defer server.Close()
				go func() {
					_, _ = io.Copy(server, client)
					_ = server.Close()
				}()
				_, _ = io.Copy(client, &tamperingConn{Conn: server, at: 900})
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return u.Scheme + "://localhost:" + port
}

// TestWineWinrsTamperedReply: a byte changed in an encrypted reply fails
// Wine's DecryptMessage, and winrs.exe refuses the reply as tampered.
func TestWineWinrsTamperedReply(t *testing.T) {
	t.Parallel()
	exe := windowsTool(t, "github.com/krbhttp/krbhttp/wsman/cmd/winrs")
	p := startWine(t)
	cc := wineCache(t, "FILE")
	proxy := tamperingProxy(t, startIISLike(t, false).URL)
	code, out, errOut := runWine(t, p, cc, exe, "-r", proxy+"/wsman", "--encryption", "always", "--", "echo never")
	if code == 0 || out != "" || !strings.Contains(errOut, "tampered") || !strings.Contains(errOut, "DecryptMessage") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestWineSSPIPackage runs the Windows-only tests of auth/internal/sspi
// and auth, built for Windows, under Wine with alice logged on and the
// HTTP/localhost keytab. auth/internal/sspi's put an SSPI context against
// the pure-Go acceptor (mutual authentication, sealing both ways, a
// corrupted reply, a tampered and a replayed message, an unknown
// service); auth's check that the request's mutual authentication mode
// (context, policy, transport) reaches SSPI.
func TestWineSSPIPackage(t *testing.T) {
	t.Parallel()
	p := startWine(t)
	cc := wineCache(t, "FILE")
	for _, pkg := range []struct {
		path  string
		tests []string
	}{
		{"github.com/krbhttp/krbhttp/auth/internal/sspi", []string{"TestSSPIAgainstGoAcceptor", "TestSSPICorruptedReply", "TestSSPIUnknownService"}},
		{"github.com/krbhttp/krbhttp/auth", []string{"TestSSPIPerRequestMutual"}},
	} {
		exe := filepath.Join(t.TempDir(), filepath.Base(pkg.path)+".test.exe")
		build := exec.Command("go", "test", "-c", "-o", exe, pkg.path)
		build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the test binary of %s: %v\n%s", pkg.path, err, out)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := p.Command(ctx, exe, "-test.v", "-test.run", "^TestSSPI")
		cmd.Env = append(cmd.Env, "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+cc,
			"KRBHTTP_SSPI_KEYTAB="+winePath(env.httpKeytab), "KRBHTTP_SSPI_SPN=HTTP/localhost")
		code, out, errOut := runCommand(t, cmd)
		cancel()
		if code != 0 || strings.Contains(out, "SKIP") {
			t.Fatalf("%s: exit %d\n%s\n%s", pkg.path, code, out, errOut)
		}
		for _, name := range pkg.tests {
			if !strings.Contains(out, "--- PASS: "+name) {
				t.Fatalf("%s did not pass:\n%s", name, out)
			}
		}
	}
}

// TestWineExplicitCredentials: on Windows, explicit credentials keep the
// pure-Go path, as on Linux: krbcurl.exe with a principal and a password
// file, or a keytab (named with a drive letter, as Windows users write
// paths), logs in to the KDC itself and never asks SSPI, here with no
// logon at all (an empty cache for Wine's MIT).
func TestWineExplicitCredentials(t *testing.T) {
	t.Parallel()
	exe := windowsTool(t, "github.com/krbhttp/krbhttp/auth/cmd/krbcurl")
	p := startWine(t)
	user, password := newUser(t)
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kt, err := env.realm.Keytab(user)
	if err != nil {
		t.Fatal(err)
	}
	noLogon := "FILE:" + filepath.Join(t.TempDir(), "none")
	iisp := startIISLike(t, false)
	for _, login := range [][]string{
		{"--principal", user, "--password-file", winePath(pwFile)},
		{"--principal", user, "--keytab", winePath(kt)},
	} {
		args := append(append([]string{"-v"}, login...), iisp.URL+"/whoami")
		code, out, errOut := runWine(t, p, noLogon, exe, args...)
		if code != 0 || !strings.Contains(out, `"principal":"`+user+`@`) || strings.Contains(errOut, "SSPI") {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", login, code, out, errOut)
		}
	}
}

// TestWineKrbcurlThroughSquid: krbcurl.exe answers an authenticating
// proxy's 407 with SSPI's token, as on a Windows workstation behind a
// corporate proxy: through Squid requiring Negotiate to a Kerberized
// site over http (407 then 401, both answered) and over https (CONNECT),
// and Squid's access log names the user.
func TestWineKrbcurlThroughSquid(t *testing.T) {
	t.Parallel()
	exe := windowsTool(t, "github.com/krbhttp/krbhttp/auth/cmd/krbcurl")
	p := startWine(t)
	cc := wineCache(t, "FILE")
	squidProxy := startSquid(t, false)
	site := startProxiedSite(t)
	user := "alice@" + env.realm.Realm
	for _, c := range []struct {
		name string
		args []string
	}{
		{"http", []string{"-v", "-x", squidProxy.URL, site.http + "/whoami?wine-x"}},
		{"https through CONNECT", []string{"-v", "-x", squidProxy.URL, "--cacert", winePath(site.caFile), site.https + "/whoami?wine-connect"}},
	} {
		code, out, errOut := runWine(t, p, cc, exe, c.args...)
		if code != 0 || !strings.Contains(out, `"principal":"`+user+`"`) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q\n%s", c.name, code, out, errOut, squidProxy.Logs())
		}
		// Both tokens from SSPI: the proxy's (HTTP/127.0.0.1, as
		// Squid's URL names it) and the site's.
		for _, spn := range []string{"spn=HTTP/127.0.0.1", "spn=HTTP/" + proxiedHost} {
			if !slices.ContainsFunc(strings.Split(errOut, "\n"), func(l string) bool {
				return strings.Contains(l, "token from SSPI") && strings.Contains(l, spn)
			}) {
				t.Errorf("%s: no token from SSPI for %s:\n%s", c.name, spn, errOut)
			}
		}
	}
	accessLogHas(t, squidProxy, "GET "+site.http+"/whoami?wine-x", user)
	accessLogHas(t, squidProxy, "TCP_TUNNEL/200", "CONNECT "+strings.TrimPrefix(site.https, "https://"), user)
}
