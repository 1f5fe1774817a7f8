package file_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/file"
)

// TestDirInterop: a DIR: collection MIT's kinit made, listed primary
// first; a cache we add and make primary is what MIT's klist shows; MIT's
// kswitch moves the primary back for us.
func TestDirInterop(t *testing.T) {
	r := ccachetest.StartRealm(t)
	if err := r.AddPrincipal("bob", "pw-bob"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cc")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	name := "DIR:" + dir
	r.Kinit(t, "alice", name)
	r.Kinit(t, "bob", name)
	ctx := context.Background()
	d := file.OpenDir(dir)
	caches, err := d.Caches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ccachetest.Principals(t, caches); len(got) != 2 || got[0] != r.Principal("bob") || got[1] != r.Alice {
		t.Fatalf("caches %v, want bob (primary) then alice", got)
	}
	alice := caches[1].Name()

	// A cache of ours, made primary.
	s := ccachetest.NewPrimary(t, d, "carol@KRBHTTP.TEST")
	out, err := r.Klist("-c", name)
	if err != nil || !strings.Contains(out, "Default principal: carol@KRBHTTP.TEST") || !strings.Contains(out, s.Name()) {
		t.Fatalf("klist after SetPrimary: %v\n%s", err, out)
	}
	if out, err := r.Run("kswitch", "-c", alice); err != nil {
		t.Fatalf("kswitch: %v %s", err, out)
	}
	if p, err := d.Primary(ctx); err != nil || p.Name() != alice {
		t.Errorf("primary after kswitch = %v %v, want %s", p, err, alice)
	}
	// A cache of another collection is refused.
	if err := d.SetPrimary(ctx, file.Open(filepath.Join(t.TempDir(), "tktx"))); err == nil {
		t.Error("SetPrimary took a cache of another directory")
	}
	if _, err := file.OpenDir(filepath.Join(dir, "missing")).Caches(ctx); err == nil {
		t.Error("a missing collection listed caches")
	}
}
