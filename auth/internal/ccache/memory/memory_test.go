package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/memory"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	name := t.Name()
	defer memory.Destroy(name)
	c := memory.Open(name)
	if c.Name() != "MEMORY:"+name {
		t.Errorf("name %s", c.Name())
	}
	if _, err := c.Load(ctx); !errors.Is(err, ccache.ErrNotFound) {
		t.Fatalf("uninitialized: %v", err)
	}
	alice := ccachetest.Principal("alice@R")
	if err := c.Initialize(ctx, alice, []*ccache.Credential{ccachetest.Credential("alice@R", "krbtgt/R@R")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := memory.Open(name).Add(ctx, ccachetest.Credential("alice@R", fmt.Sprintf("s/%d@R", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := memory.Open(name).Load(ctx)
	if err != nil || len(got.Credentials) != 17 || !got.Principal.Equal(alice) {
		t.Fatalf("%v %+v", err, got)
	}
	var pc *ccache.PrincipalChangedError
	if err := c.Add(ctx, ccachetest.Credential("bob@R", "s@R")); !errors.As(err, &pc) {
		t.Errorf("other client: %v", err)
	}
	memory.Destroy(name)
	if _, err := memory.Open(name).Load(ctx); !errors.Is(err, ccache.ErrNotFound) {
		t.Errorf("after Destroy: %v", err)
	}
}
