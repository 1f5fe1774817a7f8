package credentials

import (
	"context"
	"crypto/rand"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache/keyring"
	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// cacheHolding returns the name MIT's klist -l gives the cache of
// principal in the collection coll.
func cacheHolding(t *testing.T, r *kdctest.Realm, coll, principal string) string {
	t.Helper()
	out, err := r.Klist("-l", "-c", coll)
	if err != nil {
		t.Fatalf("klist -l: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == r.Principal(principal) {
			return f[1]
		}
	}
	t.Fatalf("klist -l lists no cache of %s:\n%s", principal, out)
	return ""
}

// checkCollection runs what a user of a KCM: or KEYRING: collection does:
// MIT kinit of two principals (the second becomes primary), our source
// picking each by the principal option, write-back into the right cache,
// MIT klist and kvno using what we wrote, a second source (the next run of
// a program) asking the KDC nothing.
func checkCollection(t *testing.T, r *kdctest.Realm, coll string) {
	t.Helper()
	r.Kinit(t, "alice", coll)
	r.Kinit(t, "bob", coll)
	cfg := realConfig(t, r)
	for principal, want := range map[string]string{"": "bob", "alice": "alice", "bob@KRBHTTP.TEST": "bob"} {
		src, err := NewCCacheSource(cfg, coll, principal)
		if err != nil {
			t.Fatal(err)
		}
		tgt, err := src.TGT(t.Context())
		if err != nil {
			t.Fatalf("%q: %v", principal, err)
		}
		if got := tgt.Client.PrincipalNameString(); got != want {
			t.Errorf("principal %q: client %s, want %s", principal, got, want)
		}
	}
	nobody, _ := NewCCacheSource(cfg, coll, "nobody")
	if _, err := nobody.TGT(t.Context()); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("nobody: %v", err)
	}

	before, _ := r.TGSCount("alice", realSPN)
	for range 3 {
		src, _ := NewCCacheSource(cfg, coll, "alice")
		if _, err := src.ServiceTicket(t.Context(), realSPN); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := r.TGSCount("alice", realSPN); after != before+1 {
		t.Errorf("%d TGS requests for three sources, want 1: the written ticket was not used", after-before)
	}
	alice := cacheHolding(t, r, coll, "alice")
	out, err := r.Klist("-c", alice)
	if err != nil || !strings.Contains(out, r.Principal(realSPN)) {
		t.Fatalf("klist -c %s does not list the ticket we got: %v\n%s", alice, err, out)
	}
	if out, err := r.Run("kvno", "-c", alice, realSPN); err != nil {
		t.Fatalf("kvno: %v %s", err, out)
	}
	if after, _ := r.TGSCount("alice", realSPN); after != before+1 {
		t.Errorf("kvno asked the KDC instead of using the ticket we wrote")
	}
	if out, err := r.Klist("-c", cacheHolding(t, r, coll, "bob")); err != nil || strings.Contains(out, realSPN) {
		t.Errorf("bob's cache got alice's ticket: %v\n%s", err, out)
	}
}

// TestRealKCM: a real sssd_kcm, as on Fedora and RHEL.
func TestRealKCM(t *testing.T) {
	r := realm(t)
	k := kdctest.StartKCM(t)
	if err := k.Configure(r); err != nil {
		t.Fatal(err)
	}
	checkCollection(t, r, "KCM:")
}

// TestRealKeyring: a session-anchored keyring collection with a name of
// its own (the session keyring is shared by the user's processes).
func TestRealKeyring(t *testing.T) {
	r := realm(t)
	residual := "session:credentials-" + strings.ToLower(rand.Text()[:10])
	n, err := keyring.ParseName(residual)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keyring.NewCollection(n).Destroy(context.Background()) })
	checkCollection(t, r, "KEYRING:"+residual)
	if out, err := exec.Command("keyctl", "show", "@s").CombinedOutput(); err != nil || !strings.Contains(string(out), "_krb_credentials-") {
		t.Errorf("keyctl does not show the collection: %v\n%s", err, out)
	}
}
