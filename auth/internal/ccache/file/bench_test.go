package file_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
)

// BenchmarkLoad reads a cache of a TGT and 20 service tickets under the
// shared lock, as every source reload does.
func BenchmarkLoad(b *testing.B) {
	c := newCache(b, "alice@KRBHTTP.TEST")
	ctx := context.Background()
	for i := range 20 {
		if err := c.Add(ctx, ccachetest.Credential("alice@KRBHTTP.TEST", fmt.Sprintf("HTTP/h%d@KRBHTTP.TEST", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Load(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdd is one write-back: lock, read the header, append, unlock.
func BenchmarkAdd(b *testing.B) {
	c := newCache(b, "alice@KRBHTTP.TEST")
	ctx := context.Background()
	cred := ccachetest.Credential("alice@KRBHTTP.TEST", "HTTP/h@KRBHTTP.TEST")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Add(ctx, cred); err != nil {
			b.Fatal(err)
		}
	}
}
