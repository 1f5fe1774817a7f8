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
