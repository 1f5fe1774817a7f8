package kdctest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAttachUsesAnotherProcesssRealm(t *testing.T) {
	owner := Start(t)
	r, err := Attach(owner.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Realm != owner.Realm || r.KDCAddr != owner.KDCAddr || r.LogPath != owner.LogPath {
		t.Fatalf("attached %+v, want the owner's realm, KDC and log", r)
	}
	// kadmin.local on the shared database, kinit against the owner's KDC,
	// the owner's log: everything a test needs.
	if err := r.AddPrincipal("bob", "bob-pw"); err != nil {
		t.Fatal(err)
	}
	cc := "FILE:" + filepath.Join(t.TempDir(), "cc")
	r.Kinit(t, "bob", cc)
	if out, err := r.Klist("-c", cc); err != nil || !strings.Contains(out, "bob@"+r.Realm) {
		t.Fatalf("klist: %v\n%s", err, out)
	}
	if n, err := r.ASCount("bob"); err != nil || n != 1 {
		t.Fatalf("ASCount = %d, %v", n, err)
	}
	// Closing the attached realm leaves the owner's KDC running.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", owner.KDCAddr, time.Second)
	if err != nil {
		t.Fatalf("the owner's KDC stopped with the attached realm: %v", err)
	}
	c.Close()
}

func TestAttachFails(t *testing.T) {
	if _, err := Attach(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a realm directory") {
		t.Fatalf("empty directory: %v", err)
	}

	// A realm whose KDC is down: Attach must fail, within its timeout.
	owner := Start(t)
	if err := owner.Stop(); err != nil {
		t.Fatal(err)
	}
	saved := AttachTimeout
	AttachTimeout = 300 * time.Millisecond
	defer func() { AttachTimeout = saved }()
	if _, err := Attach(owner.Dir); err == nil || !strings.Contains(err.Error(), "did not accept connections") {
		t.Fatalf("KDC down: %v", err)
	}
}

func TestRealmKDC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "krb5.conf")
	conf := `# a lab's file
[libdefaults]
	default_realm = LAB.TEST
[realms]
	OTHER.TEST = {
		kdc = other:1
	}
	LAB.TEST = {
		kdc = kdc.lab.test
		kdc = second:88
	}
`
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	realm, kdc, err := realmKDC(path)
	if err != nil || realm != "LAB.TEST" || kdc != "kdc.lab.test:88" {
		t.Fatalf("got %q %q %v", realm, kdc, err)
	}
	// The whole of MIT's syntax, since this is the module's one parser:
	// the realm in an included file, a quoted value, and the first of two
	// default_realm values.
	inc := filepath.Join(t.TempDir(), "realms")
	if err := os.WriteFile(inc, []byte("[realms]\n\tINC.TEST = {\n\t\tkdc = \"127.0.0.1:750\"\n\t}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf = "[libdefaults]\n\tdefault_realm = INC.TEST\n\tdefault_realm = IGNORED.TEST\ninclude " + inc + "\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if realm, kdc, err := realmKDC(path); err != nil || realm != "INC.TEST" || kdc != "127.0.0.1:750" {
		t.Fatalf("with include: %q %q %v", realm, kdc, err)
	}
	if err := os.WriteFile(path, []byte("[libdefaults]\n\tdefault_realm = NOKDC.TEST\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := realmKDC(path); err == nil || !strings.Contains(err.Error(), "no default_realm with a kdc") {
		t.Fatalf("no kdc: %v", err)
	}
}
