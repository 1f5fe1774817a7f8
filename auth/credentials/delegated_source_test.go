package credentials

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// delegate gets what a client would forward: a forwarded TGT of user's.
func (f *fixture) delegate(t *testing.T, user string) *ticket.Ticket {
	t.Helper()
	src, err := NewPasswordSource(f.cfg, user, user+"-pw", f.opts(WithForwardable(true))...)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := src.ForwardedTGT(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fwd
}

func TestDelegatedSource(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src, err := NewDelegatedSource(f.cfg, f.delegate(t, "alice"), f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if src.Principal() != "alice@"+testRealm {
		t.Errorf("principal %s", src.Principal())
	}
	for range 3 {
		tkt, err := src.ServiceTicket(ctx, webSPN)
		if err != nil {
			t.Fatal(err)
		}
		if tkt.Client.PrincipalNameString() != "alice" || tkt.Ticket.SName.PrincipalNameString() != webSPN {
			t.Fatalf("ticket for %v to %v", tkt.Client, tkt.Ticket.SName)
		}
	}
	if n := f.kdc.TGSCount(webSPN); n != 1 {
		t.Errorf("%d TGS requests for three calls, want 1", n)
	}
	// A forwardable delegated TGT can be delegated again.
	fwd, err := src.ForwardedTGT(ctx)
	if err != nil || !types.IsFlagSet(&fwd.Flags, flags.Forwarded) {
		t.Fatalf("third hop: %v", err)
	}
	tgt, err := src.TGT(ctx)
	if err != nil || tgt.Client.PrincipalNameString() != "alice" {
		t.Fatalf("TGT: %v", err)
	}
}

func TestDelegatedSourceExpires(t *testing.T) {
	f := newFixture(t)
	src, err := NewDelegatedSource(f.cfg, f.delegate(t, "alice"), f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(11 * time.Hour)
	_, err = src.ServiceTicket(context.Background(), webSPN)
	var e *Error
	if !errors.Is(err, ErrExpired) || !errors.As(err, &e) || e.Principal != "alice@"+testRealm {
		t.Fatalf("error %v, want ErrExpired naming alice", err)
	}
}

func TestNewDelegatedSourceErrors(t *testing.T) {
	f := newFixture(t)
	if _, err := NewDelegatedSource(f.cfg, nil); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("nil ticket: %v", err)
	}
	src, _ := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts()...)
	svc, err := src.ServiceTicket(context.Background(), webSPN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDelegatedSource(f.cfg, svc); !errors.Is(err, ErrNotTGT) {
		t.Errorf("service ticket: %v", err)
	}
	if _, err := NewDelegatedSource(f.cfg, f.delegate(t, "bob"), WithRefreshFraction(0)); err == nil {
		t.Error("bad option accepted")
	}
}
