package credentials

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

func sameTicket(a, b *ticket.Ticket) bool {
	return string(a.Ticket.EncPart.Cipher) == string(b.Ticket.EncPart.Cipher)
}

// TestDropTicket: a dropped ticket is replaced by a fresh one from the
// KDC; dropping it again, or a ticket the source no longer holds, costs
// nothing; a refused fresh ticket is kept for RefusedHoldOff, then dropped.
func TestDropTicket(t *testing.T) {
	f := newFixture(t)
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get := func() *ticket.Ticket {
		t.Helper()
		tkt, err := src.ServiceTicket(ctx, webSPN)
		if err != nil {
			t.Fatal(err)
		}
		return tkt
	}
	first := get()
	src.DropTicket(webSPN, first)
	second := get()
	if sameTicket(first, second) || f.kdc.TGSCount(webSPN) != 2 {
		t.Fatalf("after a drop: same ticket %v, %d TGS requests; want a new ticket, 2", sameTicket(first, second), f.kdc.TGSCount(webSPN))
	}
	// Late reports of the first ticket (other requests that used it).
	src.DropTicket(webSPN, first)
	if !sameTicket(get(), second) || f.kdc.TGSCount(webSPN) != 2 {
		t.Fatal("a late report of a replaced ticket dropped its successor")
	}
	// The fresh ticket refused too: kept during the hold-off.
	f.clock.Advance(RefusedHoldOff / 2)
	src.DropTicket(webSPN, second)
	if !sameTicket(get(), second) || f.kdc.TGSCount(webSPN) != 2 {
		t.Fatal("a fresh ticket refused within the hold-off was dropped")
	}
	// After it, a refusal drops again: one KDC request per hold-off.
	f.clock.Advance(RefusedHoldOff)
	src.DropTicket(webSPN, second)
	if third := get(); sameTicket(third, second) || f.kdc.TGSCount(webSPN) != 3 {
		t.Fatalf("after the hold-off: %d TGS requests", f.kdc.TGSCount(webSPN))
	}
	// Other services are not affected.
	other, _ := src.ServiceTicket(ctx, "HTTP/other.example.test")
	src.DropTicket(webSPN, other)
	if again, _ := src.ServiceTicket(ctx, "HTTP/other.example.test"); !sameTicket(again, other) {
		t.Fatal("dropping a ticket under another SPN dropped this one")
	}
}

// TestDropTicketBurst: 64 callers reporting the same refused ticket cost
// one new ticket.
func TestDropTicketBurst(t *testing.T) {
	f := newFixture(t)
	kt, err := f.kdc.UserKeytab("alice")
	if err != nil {
		t.Fatal(err)
	}
	src2, err := NewKeytabSource(f.cfg, "alice", kt, f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	f.kdc.SetDelay(10 * time.Millisecond)
	ctx := context.Background()
	old, err := src2.ServiceTicket(ctx, webSPN)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			src2.DropTicket(webSPN, old)
			tkt, err := src2.ServiceTicket(ctx, webSPN)
			if err != nil || sameTicket(tkt, old) {
				t.Errorf("%v; the refused ticket again: %v", err, err == nil && sameTicket(tkt, old))
			}
		})
	}
	wg.Wait()
	if n := f.kdc.TGSCount(webSPN); n != 2 {
		t.Fatalf("%d TGS requests, want 2 (the first ticket and one replacement)", n)
	}
}

// TestDropTicketInCacheFile: a refused ticket stored in the credential
// cache file (kvno put it there) is skipped after the drop, not reread.
func TestDropTicketInCacheFile(t *testing.T) {
	f := newFixture(t)
	path, _ := f.cacheWithServiceTicket(t)
	src, _ := NewCCacheSource(f.cfg, path, "alice", f.opts()...)
	ctx := context.Background()
	stored, err := src.ServiceTicket(ctx, webSPN)
	if err != nil || f.kdc.TGSCount(webSPN) != 1 {
		t.Fatalf("%v; %d TGS requests, want the stored ticket", err, f.kdc.TGSCount(webSPN))
	}
	src.DropTicket(webSPN, stored)
	fresh, err := src.ServiceTicket(ctx, webSPN)
	if err != nil || sameTicket(fresh, stored) || f.kdc.TGSCount(webSPN) != 2 {
		t.Fatalf("%v; %d TGS requests; the stored ticket was handed out again", err, f.kdc.TGSCount(webSPN))
	}
}

// TestEverySourceDrops: all sources of the package are Droppers.
func TestEverySourceDrops(t *testing.T) {
	for _, s := range []Source{(*CCacheSource)(nil), PasswordSource{}, KeytabSource{}, (*DelegatedSource)(nil)} {
		if _, ok := s.(Dropper); !ok {
			t.Errorf("%T is not a Dropper", s)
		}
	}
}
