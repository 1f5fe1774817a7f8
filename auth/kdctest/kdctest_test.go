package kdctest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStartKinit(t *testing.T) {
	r := Start(t)
	if err := r.AddPrincipal("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddService("HTTP/web.krbhttp.test", true); err != nil {
		t.Fatal(err)
	}
	cc := "FILE:" + filepath.Join(r.Dir, "cc")
	r.Kinit(t, "alice", cc)
	out, err := r.Klist("-c", cc)
	if err != nil || !strings.Contains(out, "krbtgt/KRBHTTP.TEST@KRBHTTP.TEST") {
		t.Fatalf("klist: %v\n%s", err, out)
	}
	if n, err := r.ASCount("alice"); err != nil || n != 1 {
		t.Fatalf("ASCount = %d, %v", n, err)
	}
}

func TestRotateKey(t *testing.T) {
	r := Start(t)
	const spn = "HTTP/web.krbhttp.test"
	before, err := r.AddService(spn, false)
	if err != nil {
		t.Fatal(err)
	}
	after, err := r.RotateKey(spn)
	if err != nil {
		t.Fatal(err)
	}
	kvno := func(path string) string {
		t.Helper()
		out, err := r.Klist("-k", "-K", path)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// klist -k prints "KVNO Principal" rows: the new keytab holds only
	// the next kvno.
	old, cur := kvno(before), kvno(after)
	if !strings.Contains(old, "   1 "+spn) || !strings.Contains(cur, "   2 "+spn) || strings.Contains(cur, "   1 "+spn) {
		t.Fatalf("before:\n%s\nafter:\n%s", old, cur)
	}
}

// TestTrust: alice of the default realm gets a ticket for a service of a
// second realm with MIT's own tools, by an explicit realm and through
// [domain_realm].
func TestTrust(t *testing.T) {
	a := Start(t)
	b := Start(t, WithRealm("PARTNER.TEST"))
	if b.Domain != "partner.test" || a.Domain != "krbhttp.test" {
		t.Fatalf("domains %q %q", a.Domain, b.Domain)
	}
	if err := Trust(a, b); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPrincipal("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddService("HTTP/web.partner.test", false); err != nil {
		t.Fatal(err)
	}
	cc := "FILE:" + filepath.Join(a.Dir, "cc")
	a.Kinit(t, "alice", cc)
	out, err := a.Run("kvno", "-c", cc, "HTTP/web.partner.test@PARTNER.TEST")
	if err != nil {
		t.Fatalf("kvno: %v\n%s", err, out)
	}
	out, err = a.Run("kvno", "-c", cc, "-S", "HTTP", "web.partner.test")
	if err != nil {
		t.Fatalf("kvno -S: %v\n%s", err, out)
	}
	if n, err := b.TGSCount("alice@KRBHTTP.TEST", "HTTP/web.partner.test"); err != nil || n < 1 {
		t.Fatalf("the partner KDC issued %d tickets to alice (%v)", n, err)
	}
}
