package credentials

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache/keyring"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/memory"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// TestDropTicketInEveryCache: whatever the cache type, a service ticket
// found in the cache (kvno put it there) and refused by the server is not
// handed out again after the drop, though the cache still holds it; the
// fresh ticket is written back, never the refused one; and where the cache
// is writable, the next source (the next run of a program) uses the fresh
// ticket, not the refused one, without asking the KDC.
func TestDropTicketInEveryCache(t *testing.T) {
	type cache struct {
		name     string
		writable bool // the fake KCM daemon keeps no writes
	}
	setups := map[string]func(t *testing.T, f *fixture, creds []*kdc.Credential) cache{
		"FILE": func(t *testing.T, _ *fixture, creds []*kdc.Credential) cache {
			path := filepath.Join(t.TempDir(), "cc")
			writeCache(t, path, creds...)
			return cache{"FILE:" + path, true}
		},
		"MEMORY": func(t *testing.T, _ *fixture, creds []*kdc.Credential) cache {
			name := fmt.Sprintf("drop-%p", t)
			t.Cleanup(func() { memory.Destroy(name) })
			c := forTickets(t, creds)
			if err := memory.Open(name).Initialize(t.Context(), c.Principal, c.Credentials); err != nil {
				t.Fatal(err)
			}
			return cache{"MEMORY:" + name, true}
		},
		"KCM": func(t *testing.T, f *fixture, creds []*kdc.Credential) cache {
			c := forTickets(t, creds)
			f.cfg.KCMSocket = kcmServing(t, c.Principal, c.Credentials, 0)
			return cache{"KCM:", false}
		},
	}
	if runtime.GOOS == "linux" {
		setups["KEYRING"] = func(t *testing.T, _ *fixture, creds []*kdc.Credential) cache {
			residual := "session:drop-" + strings.ToLower(rand.Text()[:10])
			n, err := keyring.ParseName(residual + ":c")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = keyring.NewCollection(n).Destroy(context.Background()) })
			c := forTickets(t, creds)
			if err := keyring.NewCache(n).Initialize(t.Context(), c.Principal, c.Credentials); err != nil {
				t.Fatal(err)
			}
			return cache{"KEYRING:" + residual + ":c", true}
		}
	}
	for typ, setup := range setups {
		t.Run(typ, func(t *testing.T) {
			f := newFixture(t)
			tgt, st := f.kvno(t)
			cc := setup(t, f, []*kdc.Credential{tgt, st})
			src, err := NewCCacheSource(f.cfg, cc.name, "", f.opts()...)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := src.ServiceTicket(t.Context(), webSPN)
			if err != nil || !sameTicket(stored, toTicket(st)) || f.kdc.TGSCount(webSPN) != 1 {
				t.Fatalf("%v; %d TGS requests; want the cache's ticket", err, f.kdc.TGSCount(webSPN))
			}
			src.DropTicket(webSPN, stored)
			for range 2 {
				fresh, err := src.ServiceTicket(t.Context(), webSPN)
				if err != nil || sameTicket(fresh, stored) || f.kdc.TGSCount(webSPN) != 2 {
					t.Fatalf("%v; %d TGS requests; the refused ticket in the cache was handed out again", err, f.kdc.TGSCount(webSPN))
				}
			}
			if !cc.writable {
				return
			}
			next, err := NewCCacheSource(f.cfg, cc.name, "", f.opts()...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := next.ServiceTicket(t.Context(), webSPN)
			if err != nil || sameTicket(got, stored) || f.kdc.TGSCount(webSPN) != 2 {
				t.Fatalf("%v; %d TGS requests; the next source did not take the fresh ticket written back", err, f.kdc.TGSCount(webSPN))
			}
		})
	}
}
