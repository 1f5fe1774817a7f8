package kdc_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
)

// counting counts the requests that reach the fake KDC.
type counting struct {
	kdc.Transport
	n atomic.Int64
}

func (c *counting) Exchange(ctx context.Context, realm string, req []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Transport.Exchange(ctx, realm, req)
}

// TestPreauthMemo: with a memo, a login after the first sends
// PA-ENC-TIMESTAMP at once (one exchange); a guess the KDC refuses is
// forgotten and the login starts over (a wrong password costs one round
// more, and still fails with ErrPreauthFailed).
func TestPreauthMemo(t *testing.T) {
	fake := kdcfake.New(realm)
	if err := fake.AddUser("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	ct := &counting{Transport: fake}
	cfg := config.New()
	cfg.LibDefaults.DefaultRealm = realm
	c := kdc.New(cfg, kdc.WithTransport(ct))
	memo := &kdc.PreauthMemo{}
	login := func(pw string) (int64, error) {
		before := ct.n.Load()
		_, err := c.Login(context.Background(), alice, realm, kdc.Password(pw), kdc.LoginOptions{Preauth: memo})
		return ct.n.Load() - before, err
	}
	for i, want := range []int64{2, 1, 1} {
		if n, err := login("alice-pw"); err != nil || n != want {
			t.Fatalf("login %d: %d exchanges (%v), want %d", i+1, n, err, want)
		}
	}
	if n, err := login("wrong"); !errors.Is(err, kdc.ErrPreauthFailed) || n != 3 {
		t.Fatalf("wrong password with a memo: %d exchanges, %v; want 3 and ErrPreauthFailed", n, err)
	}
	// The memo was forgotten with the refused guess, then remembered
	// nothing (the login failed): two rounds again.
	if n, err := login("alice-pw"); err != nil || n != 2 {
		t.Fatalf("after the refused guess: %d exchanges (%v), want 2", n, err)
	}
	if n, err := login("alice-pw"); err != nil || n != 1 {
		t.Fatalf("memo learnt again: %d exchanges (%v), want 1", n, err)
	}
	// Without a memo every login costs two.
	before := ct.n.Load()
	if _, err := c.Login(context.Background(), alice, realm, kdc.Password("alice-pw"), kdc.LoginOptions{}); err != nil || ct.n.Load()-before != 2 {
		t.Fatalf("no memo: %d exchanges (%v)", ct.n.Load()-before, err)
	}
}
