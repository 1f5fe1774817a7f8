package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// partnerHost is the partner realm's web host; the servers listen on
// loopback and clients name them by it (hostname override).
func partnerHost() string { return "web." + env.partner.Domain }

// partnerServer is our acceptor with the partner service's keytab,
// accepting the given client realms (none: the acceptor's default, the
// keytab's realm only).
func partnerServer(t *testing.T, realms ...string) *server {
	t.Helper()
	var opts []acceptor.Option
	if len(realms) > 0 {
		opts = append(opts, acceptor.WithRealms(realms...))
	}
	return startServer(t, env.partnerKeytab, nil, opts...)
}

// TestCrossRealm: alice@KRBHTTP.TEST gets 200 from HTTP/web.partner.test
// of PARTNER.TEST, through the trust, when the service accepts her realm;
// a service that accepts only its own realm refuses her.
func TestCrossRealm(t *testing.T) {
	t.Parallel()
	user, pw := newUser(t)
	principal := env.realm.Principal(user)
	srv := partnerServer(t, env.partner.Realm, env.realm.Realm)
	before, _ := env.partner.TGSCount(principal, "HTTP/"+partnerHost())
	c := client(t, auth.WithHostnameOverride(partnerHost()), auth.WithPrincipal(principal), auth.WithPassword(pw))
	status, body := get(t, c, srv.URL)
	if status != 200 || !strings.HasPrefix(body, principal+" GET") {
		t.Fatalf("status %d body %q", status, body)
	}
	if n, _ := env.partner.TGSCount(principal, "HTTP/"+partnerHost()); n != before+1 {
		t.Errorf("partner KDC issued %d tickets to %s, want 1", n-before, principal)
	}
	if n, _ := env.realm.TGSCount(user, "krbtgt/"+env.partner.Realm); n != 1 {
		t.Errorf("home KDC issued %d cross-realm TGTs, want 1", n)
	}

	own := partnerServer(t)
	status, body = get(t, client(t, auth.WithHostnameOverride(partnerHost()), auth.WithPrincipal(principal), auth.WithPassword(pw)), own.URL)
	if status == 200 {
		t.Fatalf("a service accepting only %s let %s in: %q", env.partner.Realm, principal, body)
	}
}

// TestCrossRealmKrbcurl: the same through krbcurl and a ccache from MIT's
// kinit.
func TestCrossRealmKrbcurl(t *testing.T) {
	t.Parallel()
	srv := partnerServer(t, env.partner.Realm, env.realm.Realm)
	cc := kinit(t, "alice")
	code, out, errOut := runTool(t, cc, krbcurl(t), "--hostname-override", partnerHost(), srv.URL)
	if code != 0 || !strings.HasPrefix(out, env.realm.Principal("alice")+" GET") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestCrossRealmReferral: a client whose krb5.conf does not map the
// partner's domain asks its own KDC, which refers it to the partner realm
// (the KDC's [domain_realm] does map it); the referral is followed.
func TestCrossRealmReferral(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(env.realm.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, env.partner.Domain+" = ") {
			kept = append(kept, line)
		}
	}
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := krb5conf.LoadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := conf.RealmForHost(partnerHost()); r != env.realm.Realm {
		t.Fatalf("the test config still maps %s to %s", partnerHost(), r)
	}
	srv := partnerServer(t, env.partner.Realm, env.realm.Realm)
	user, pw := newUser(t)
	c := client(t, auth.WithConfig(conf), auth.WithHostnameOverride(partnerHost()), auth.WithPrincipal(user), auth.WithPassword(pw))
	if status, body := get(t, c, srv.URL); status != 200 || !strings.HasPrefix(body, env.realm.Principal(user)) {
		t.Fatalf("status %d body %q", status, body)
	}
}

// TestCrossRealmDelegation: alice delegates to a partner-realm service,
// which uses her forwarded TGT (of her own realm) to call another
// partner-realm service as her: both hops cross the trust.
func TestCrossRealmDelegation(t *testing.T) {
	t.Parallel()
	back := partnerServer(t, env.partner.Realm, env.realm.Realm)
	kt := env.partnerKeytab
	front := startServer(t, kt, hop(back.URL, partnerHost()),
		acceptor.WithRealms(env.partner.Realm, env.realm.Realm), acceptor.WithConfig(env.conf))
	user, pw := newUser(t)
	principal := env.realm.Principal(user)
	c := client(t, auth.WithHostnameOverride(partnerHost()), auth.WithPrincipal(principal), auth.WithPassword(pw),
		auth.WithDelegation(auth.DelegateAlways))
	status, body := get(t, c, front.URL)
	want := principal + " -> 200 " + principal + " GET"
	if status != 200 || !strings.HasPrefix(body, want) {
		t.Fatalf("status %d body %q, want %q", status, body, want)
	}
}
