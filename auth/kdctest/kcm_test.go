package kdctest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// TestKCM: two private daemons at once, each with its own state: MIT kinit
// into one leaves the other empty, and nothing reaches the system's KCM.
func TestKCM(t *testing.T) {
	r := kdctest.Start(t)
	if err := r.AddPrincipal("alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	one, two := kdctest.StartKCM(t), kdctest.StartKCM(t)
	// A lab's krb5.conf is read by services running as other users:
	// Configure keeps its mode.
	if err := os.Chmod(r.ConfigPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := one.Configure(r); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(r.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Fatalf("krb5.conf after Configure: mode %v, want 0644", fi.Mode())
	}
	r.Kinit(t, "alice", "KCM:")
	out, err := r.Klist("-c", "KCM:")
	if err != nil || !strings.Contains(out, "Default principal: alice@"+r.Realm) {
		t.Fatalf("klist after kinit into KCM: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Ticket cache: KCM:0") {
		t.Errorf("cache name: %s", out)
	}
	// Point the realm at the second daemon: it has no cache.
	if err := two.Configure(r); err != nil {
		t.Fatal(err)
	}
	if out, err := r.Klist("-c", "KCM:"); err == nil {
		t.Errorf("second daemon has a cache:\n%s", out)
	}
}
