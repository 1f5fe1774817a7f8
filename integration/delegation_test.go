package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/apache"
	"github.com/krbhttp/krbhttp/integration/internal/mitpeer"
)

// The double hop: a client delegates to a front service (our acceptor),
// whose handler calls a back service as the user with the delegated TGT.
// The front is HTTP/localhost (not trusted for delegation) or
// HTTP/web.krbhttp.test (OK-AS-DELEGATE, reached through a hostname
// override); the back is the other one.

const webHost = "web.krbhttp.test"

// hop answers "<principal> -> <status> <what next answered>" after calling
// next as the user who delegated, or "<principal> no delegation".
// override names next's host for its SPN ("" for next's own).
func hop(next, override string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		if id.Credentials == nil {
			fmt.Fprintf(w, "%s no delegation", id.Principal)
			return
		}
		opts := []auth.Option{auth.WithCredentials(id.Credentials), auth.WithConfig(env.conf)}
		if override != "" {
			opts = append(opts, auth.WithHostnameOverride(override))
		}
		c, err := auth.NewClient(opts...)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer c.CloseIdleConnections()
		resp, err := c.Get(next)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(w, "%s -> %d %s", id.Principal, resp.StatusCode, b)
	})
}

// doubleHop starts a back service and a front that delegates to it. With
// trustedFront the front is HTTP/web.krbhttp.test (OK-AS-DELEGATE; clients
// need WithHostnameOverride(webHost)) and the back HTTP/localhost, else
// the other way round.
func doubleHop(t *testing.T, trustedFront bool) (front *server) {
	t.Helper()
	frontKT, backKT, override := env.httpKeytab, env.webKeytab, webHost
	if trustedFront {
		frontKT, backKT, override = env.webKeytab, env.httpKeytab, ""
	}
	back := startServer(t, backKT, nil)
	return startServer(t, frontKT, hop(back.URL+"/back", override), acceptor.WithConfig(env.conf))
}

func wantSecondHop(t *testing.T, principal string, status int, body string) {
	t.Helper()
	want := fmt.Sprintf("%[1]s -> 200 %[1]s GET 0", principal)
	if status != 200 || body != want {
		t.Fatalf("got %d %q, want %q", status, body, want)
	}
}

func TestDoubleHop(t *testing.T) {
	t.Parallel()
	user, _ := newUser(t)
	principal := env.realm.Principal(user)
	cc := "FILE:" + filepath.Join(t.TempDir(), "ccache")
	env.realm.Kinit(t, user, cc, "-f")
	front := doubleHop(t, false)
	status, body := get(t, client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegateAlways)), front.URL)
	wantSecondHop(t, principal, status, body)

	// The KDC saw the forwarded TGT requested, and the back's ticket
	// issued to the user, not to the front service.
	for _, spn := range []string{"krbtgt/" + env.realm.Realm, "HTTP/" + webHost} {
		if n, err := env.realm.TGSCount(principal, spn); err != nil || n != 1 {
			t.Errorf("TGS requests of %s for %s: %d %v, want 1", principal, spn, n, err)
		}
	}
}

// TestDelegationPolicy: under "policy" only a service the KDC flags
// OK-AS-DELEGATE gets the TGT.
func TestDelegationPolicy(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	alice := env.realm.Principal("alice")

	untrusted := doubleHop(t, false)
	status, body := get(t, client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegatePolicy)), untrusted.URL)
	if status != 200 || body != alice+" no delegation" {
		t.Fatalf("service without OK-AS-DELEGATE: %d %q", status, body)
	}

	trusted := doubleHop(t, true)
	c := client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegatePolicy), auth.WithHostnameOverride(webHost))
	status, body = get(t, c, trusted.URL)
	wantSecondHop(t, alice, status, body)
}

// TestDelegationNeedsForwardableTGT: a TGT from kinit -F cannot be
// forwarded; the request is not sent undelegated and the reason names the
// fix.
func TestDelegationNeedsForwardableTGT(t *testing.T) {
	t.Parallel()
	cc := "FILE:" + filepath.Join(t.TempDir(), "ccache")
	env.realm.Kinit(t, "alice", cc, "-F")
	front := doubleHop(t, false)
	resp, _ := getResponse(t, client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegateAlways)), front.URL)
	reason := auth.ResponseError(resp)
	var de *auth.DelegationError
	if resp.StatusCode != 401 || !errors.As(reason, &de) || !errors.Is(reason, credentials.ErrNotForwardable) ||
		!strings.Contains(reason.Error(), "kinit -f") {
		t.Fatalf("status %d, reason %v; want 401 and a DelegationError naming kinit -f", resp.StatusCode, reason)
	}
	if front.hits.Load() != 1 {
		t.Fatalf("the front saw %d requests, want 1 (no token without the delegation)", front.hits.Load())
	}

	code, _, errOut := runTool(t, cc, krbcurl(t), "--delegate", front.URL)
	if code != 11 || !strings.Contains(errOut, "kinit -f") {
		t.Fatalf("krbcurl --delegate: exit %d (want 11), stderr %q", code, errOut)
	}
	// Where policy would not delegate anyway, the TGT does not matter.
	status, body := get(t, client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegatePolicy)), front.URL)
	if status != 200 || !strings.HasSuffix(body, "no delegation") {
		t.Fatalf("policy to an untrusted service: %d %q", status, body)
	}
}

// notForwardableConfig is the realm's krb5.conf with forwardable = false,
// as many sites ship it.
func notForwardableConfig(t *testing.T) *krb5conf.Config {
	t.Helper()
	b, err := os.ReadFile(env.realm.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "krb5.conf")
	text := strings.Replace(string(b), "forwardable = true", "forwardable = false", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := krb5conf.LoadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LibDefaults.Forwardable {
		t.Fatal("forwardable still on")
	}
	return cfg
}

// TestLoginsAskForForwardableTGTs: password and keytab logins get a
// forwardable TGT when delegation is on, whatever krb5.conf says.
func TestLoginsAskForForwardableTGTs(t *testing.T) {
	t.Parallel()
	user, password := newUser(t)
	kt, err := env.realm.Keytab(user)
	if err != nil {
		t.Fatal(err)
	}
	conf := notForwardableConfig(t)
	front := doubleHop(t, false)
	for name, login := range map[string]auth.Option{"password": auth.WithPassword(password), "keytab": auth.WithKeytab(kt)} {
		t.Run(name, func(t *testing.T) {
			c := client(t, auth.WithConfig(conf), auth.WithPrincipal(user), login, auth.WithDelegation(auth.DelegateAlways))
			status, body := get(t, c, front.URL)
			wantSecondHop(t, env.realm.Principal(user), status, body)
		})
	}
}

// TestCurlDelegatesToOurAcceptor: curl (MIT GSS-API) delegates with
// --delegation always, and our acceptor's handler uses the TGT.
func TestCurlDelegatesToOurAcceptor(t *testing.T) {
	t.Parallel()
	front := doubleHop(t, false)
	code, out, errOut := runTool(t, kinit(t, "alice"), "curl", "-sS", "--negotiate", "-u", ":", "--delegation", "always", front.URL)
	if code != 0 {
		t.Fatalf("curl exit %d: %s", code, errOut)
	}
	wantSecondHop(t, env.realm.Principal("alice"), 200, out)
}

// TestRequestsKerberosDelegatesToOurAcceptor: requests-kerberos with
// delegate=True (pykerberos, MIT) delegates; REQUIRED mutual
// authentication verifies our AP-REP on the way.
func TestRequestsKerberosDelegatesToOurAcceptor(t *testing.T) {
	t.Parallel()
	front := doubleHop(t, false)
	script := `import sys, requests, requests_kerberos as rk
r = requests.get(sys.argv[1], auth=rk.HTTPKerberosAuth(mutual_authentication=rk.REQUIRED, delegate=True))
sys.stdout.write(r.text)`
	code, out, errOut := runTool(t, kinit(t, "alice"), "/usr/bin/python3", "-c", script, front.URL)
	if code != 0 {
		t.Fatalf("python exit %d: %s", code, errOut)
	}
	wantSecondHop(t, env.realm.Principal("alice"), 200, out)
}

// TestKrbcurlDelegate: krbcurl's --delegate and --delegate=policy.
func TestKrbcurlDelegate(t *testing.T) {
	t.Parallel()
	bin, cc, alice := krbcurl(t), kinit(t, "alice"), env.realm.Principal("alice")
	front := doubleHop(t, false)
	code, out, errOut := runTool(t, cc, bin, "--delegate", front.URL)
	if code != 0 {
		t.Fatalf("krbcurl --delegate: exit %d: %s", code, errOut)
	}
	wantSecondHop(t, alice, 200, out)
	code, out, errOut = runTool(t, cc, bin, "--delegate=policy", front.URL)
	if code != 0 || out != alice+" no delegation" {
		t.Fatalf("krbcurl --delegate=policy to an untrusted service: exit %d, %q %s", code, out, errOut)
	}
	trusted := doubleHop(t, true)
	code, out, errOut = runTool(t, cc, bin, "--delegate=policy", "--hostname-override", webHost, trusted.URL)
	if code != 0 {
		t.Fatalf("krbcurl --delegate=policy to a trusted service: exit %d: %s", code, errOut)
	}
	wantSecondHop(t, alice, 200, out)
}

// apacheDelegationURL asks Apache's CGI to prove the delegated TGT by
// getting a ticket for HTTP/web.krbhttp.test with it.
func apacheDelegationURL(a *apache.Server) string {
	return a.URL + apache.PathDelegation + "?HTTP/" + webHost + "@" + env.realm.Realm
}

// wantApacheDelegation checks the CGI's report: a credential cache for
// alice holding a forwarded TGT, and kvno succeeding with it.
func wantApacheDelegation(t *testing.T, a *apache.Server, body string) {
	t.Helper()
	alice := env.realm.Principal("alice")
	for _, want := range []string{"user=" + alice + " ccache=", "Default principal: " + alice, "krbtgt/" + env.realm.Realm, "HTTP/" + webHost + "@" + env.realm.Realm + ": kvno = "} {
		if !strings.Contains(body, want) {
			t.Fatalf("Apache's CGI output lacks %q:\n%s\n%s", want, body, a.ErrorLog())
		}
	}
}

// TestApacheReceivesDelegation: mod_auth_gssapi stores what our client
// delegates (GssapiDelegCcacheDir), and MIT's tools can use it.
func TestApacheReceivesDelegation(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	cc := kinit(t, "alice")
	status, body := get(t, client(t, auth.WithCCache(cc), auth.WithDelegation(auth.DelegateAlways)), apacheDelegationURL(a))
	if status != 200 {
		t.Fatalf("status %d: %s\n%s", status, body, a.ErrorLog())
	}
	wantApacheDelegation(t, a, body)

	code, out, errOut := runTool(t, cc, krbcurl(t), "--delegate", "--raw-krb5", apacheDelegationURL(a))
	if code != 0 {
		t.Fatalf("krbcurl --delegate: exit %d: %s", code, errOut)
	}
	wantApacheDelegation(t, a, out)

	_, body = get(t, client(t, auth.WithCCache(cc)), apacheDelegationURL(a))
	if !strings.HasPrefix(body, "user="+env.realm.Principal("alice")+" ccache=\n") {
		t.Fatalf("without delegation Apache got a cache: %q", body)
	}
}

// getMIT GETs url from the MIT peer and decodes its report.
func getMIT(t *testing.T, c *http.Client, url string) (int, mitpeer.Result) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r mitpeer.Result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, r
}

// TestMITAcceptorUsesOurDelegation: MIT's acceptor takes the TGT our
// client delegates and gets a service ticket with it.
func TestMITAcceptorUsesOurDelegation(t *testing.T) {
	t.Parallel()
	peer := mitpeer.Start(t, mitpeer.Config{Keytab: env.httpKeytab, Krb5Config: env.realm.ConfigPath})
	cc, alice := kinit(t, "alice"), env.realm.Principal("alice")
	url := peer.URL + "/?HTTP/" + webHost + "@" + env.realm.Realm
	for _, raw := range []bool{false, true} {
		opts := []auth.Option{auth.WithCCache(cc), auth.WithDelegation(auth.DelegateAlways)}
		if raw {
			opts = append(opts, auth.WithRawKerberos())
		}
		status, r := getMIT(t, client(t, opts...), url)
		if status != 200 || r.Initiator != alice || r.Flags&mitpeer.FlagDelegate == 0 || r.Delegated != alice || r.SecondHop != "ok" {
			t.Fatalf("raw=%v: status %d, MIT reports %+v", raw, status, r)
		}
	}
	code, out, errOut := runTool(t, cc, krbcurl(t), "--delegate", url)
	if code != 0 || !strings.Contains(out, `"second_hop": "ok"`) {
		t.Fatalf("krbcurl --delegate: exit %d, %s %s", code, out, errOut)
	}
}
