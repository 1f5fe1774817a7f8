package credentials_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// TestWriteCCache: a written cache is private, and a cache source reads
// the ticket back from it as MIT would, key and all, without a KDC.
func TestWriteCCache(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, "HTTP/web.example.test", "EXAMPLE.TEST")
	tkt := svc.Ticket(t, "alice")
	path := filepath.Join(t.TempDir(), "krb5cc")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := credentials.WriteCCache(path, tkt); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", fi.Mode(), err)
	}
	cfg, err := krb5conf.Parse("[libdefaults]\n default_realm = EXAMPLE.TEST\n")
	if err != nil {
		t.Fatal(err)
	}
	src, err := credentials.NewCCacheSource(cfg, "FILE:"+path, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.ServiceTicket(context.Background(), "HTTP/web.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.SessionKey.KeyValue, tkt.SessionKey.KeyValue) || !got.EndTime.Equal(tkt.EndTime) || got.Flags.Bytes[0] != tkt.Flags.Bytes[0] {
		t.Fatalf("read back %+v", got)
	}
	if err := credentials.WriteCCache(path, nil); err == nil {
		t.Fatal("nil ticket accepted")
	}
}
