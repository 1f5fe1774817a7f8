package integration

import (
	"crypto/rand"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// The credential cache types where Linux users keep their login: MIT
// kinit writes there, krbcurl reads and writes back the service tickets it
// gets, and MIT klist, kvno and curl --negotiate see them, with the KDC log
// as the witness. These tests are sequential: the KCM daemon's collection
// (whose primary cache kinit switches) is shared by the suite.

// kcm is the suite's KCM daemon: a private sssd_kcm started on first use
// (or the lab's, with KRBHTTP_KCM_SOCKET), named in the realm's krb5.conf.
var kcm struct {
	once sync.Once
	d    *kdctest.KCM
	err  error
}

func kcmDaemon(t *testing.T) *kdctest.KCM {
	t.Helper()
	kcm.once.Do(func() {
		if s := os.Getenv("KRBHTTP_KCM_SOCKET"); s != "" {
			kcm.d, kcm.err = kdctest.AttachKCM(s)
		} else {
			var dir string
			if dir, kcm.err = os.MkdirTemp("", "krbhttp-kcm-"); kcm.err != nil {
				return
			}
			if kcm.d, kcm.err = kdctest.NewKCM(dir); kcm.err != nil {
				_ = os.RemoveAll(dir)
				return
			}
			addCleanup(func() { _ = kcm.d.Close(); _ = os.RemoveAll(dir) })
		}
		if kcm.err == nil {
			kcm.err = kcm.d.Configure(env.realm)
		}
	})
	if kcm.err != nil {
		t.Fatalf("KCM daemon (Debian package %s): %v", kdctest.KCMPackages, kcm.err)
	}
	return kcm.d
}

// sessionKeyring returns a KEYRING:session: collection name of the test's
// own, removed (every cache, and the collection keyring) when it ends.
func sessionKeyring(t *testing.T) string {
	t.Helper()
	name := "krbhttp-" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		out, err := exec.Command("keyctl", "search", "@s", "keyring", "_krb_"+name).Output()
		if err == nil {
			_ = exec.Command("keyctl", "unlink", strings.TrimSpace(string(out)), "@s").Run()
		}
	})
	return "KEYRING:session:" + name
}

// cacheKinds are the caches the write-back tests run on: the name to kinit
// into and to give the programs as KRB5CCNAME.
func cacheKinds(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"FILE": func(t *testing.T) string { return "FILE:" + t.TempDir() + "/cc" },
		"KCM": func(t *testing.T) string {
			kcmDaemon(t)
			return "KCM:"
		},
		"KEYRING": sessionKeyring,
	}
}

// TestWriteBackAcrossRuns: with the login in each cache type, five krbcurl
// runs ask the KDC for one service ticket; klist lists the ticket krbcurl
// got; curl --negotiate after it asks the KDC nothing. Then the other way:
// a ticket curl stored is used by krbcurl. And --no-write-back leaves the
// cache alone.
func TestWriteBackAcrossRuns(t *testing.T) {
	srv := startServer(t, env.httpKeytab, nil)
	spn := env.realm.Principal("HTTP/localhost")
	bin := krbcurl(t)
	for kind, cacheName := range cacheKinds(t) {
		t.Run(kind, func(t *testing.T) {
			tgs := func(user string) int {
				n, err := env.realm.TGSCount(user, "HTTP/localhost")
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			curl := func(cc, user string) {
				t.Helper()
				code, out, errOut := runTool(t, cc, "curl", "-sS", "--negotiate", "-u", ":", srv.URL+"/")
				if code != 0 || !strings.HasPrefix(out, env.realm.Principal(user)+" GET") {
					t.Fatalf("curl --negotiate: exit %d, %q %q", code, out, errOut)
				}
			}
			krb := func(cc, user string, args ...string) {
				t.Helper()
				code, out, errOut := runTool(t, cc, bin, append(args, srv.URL+"/")...)
				if code != 0 || !strings.HasPrefix(out, env.realm.Principal(user)+" GET") {
					t.Fatalf("krbcurl %v: exit %d, %q %q", args, code, out, errOut)
				}
			}

			// We write, MIT reads.
			user, _ := newUser(t)
			cc := cacheName(t)
			env.realm.Kinit(t, user, cc)
			for range 5 {
				krb(cc, user)
			}
			if n := tgs(user); n != 1 {
				t.Errorf("5 krbcurl runs made %d TGS requests, want 1", n)
			}
			out, err := env.realm.Klist("-c", cc)
			if err != nil || !strings.Contains(out, spn) {
				t.Errorf("klist -c %s does not list the ticket krbcurl got: %v\n%s", cc, err, out)
			}
			curl(cc, user)
			if n := tgs(user); n != 1 {
				t.Errorf("curl --negotiate after krbcurl: %d TGS requests in all, want 1", n)
			}
			t.Logf("%s: 5 krbcurl runs and curl --negotiate: %d TGS request(s) for %s", cc, tgs(user), spn)

			// MIT writes, we read.
			user, _ = newUser(t)
			cc = cacheName(t)
			env.realm.Kinit(t, user, cc)
			curl(cc, user)
			krb(cc, user)
			krb(cc, user)
			if n := tgs(user); n != 1 {
				t.Errorf("curl then 2 krbcurl runs: %d TGS requests, want 1", n)
			}

			// --no-write-back: the cache stays as kinit left it.
			user, _ = newUser(t)
			cc = cacheName(t)
			env.realm.Kinit(t, user, cc)
			krb(cc, user, "--no-write-back")
			krb(cc, user, "--no-write-back")
			if n := tgs(user); n != 2 {
				t.Errorf("2 krbcurl --no-write-back runs: %d TGS requests, want 2", n)
			}
			if out, err := env.realm.Klist("-c", cc); err != nil || strings.Contains(out, spn) {
				t.Errorf("--no-write-back wrote to the cache: %v\n%s", err, out)
			}
		})
	}
}

// TestKCMPrincipalOption: --principal picks the matching cache of the KCM
// collection, whichever is primary.
func TestKCMPrincipalOption(t *testing.T) {
	kcmDaemon(t)
	srv := startServer(t, env.httpKeytab, nil)
	bin := krbcurl(t)
	first, _ := newUser(t)
	second, _ := newUser(t)
	env.realm.Kinit(t, first, "KCM:")
	env.realm.Kinit(t, second, "KCM:") // primary now
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, second},
		{[]string{"--principal", first}, first},
		{[]string{"--principal", env.realm.Principal(second)}, second},
	} {
		code, out, errOut := runTool(t, "KCM:", bin, append(tc.args, srv.URL+"/")...)
		if code != 0 || !strings.HasPrefix(out, env.realm.Principal(tc.want)+" GET") {
			t.Errorf("krbcurl %v: exit %d, %q %q; want %s", tc.args, code, out, errOut, tc.want)
		}
	}
	code, _, errOut := runTool(t, "KCM:", bin, "--principal", "nobody-here", srv.URL+"/")
	if code != 11 || !strings.Contains(errOut, "nobody-here") {
		t.Errorf("a principal with no cache: exit %d (want 11), %q", code, errOut)
	}
}
