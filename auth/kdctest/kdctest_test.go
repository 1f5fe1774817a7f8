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
