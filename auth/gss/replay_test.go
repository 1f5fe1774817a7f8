package gss_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// mapStore is the simplest correct replay store, so that these tests
// exercise the acceptor's side of the contract, not a store (package
// acceptor tests its stores). It records every call.
type mapStore struct {
	mu    sync.Mutex
	seen  map[gss.ReplayKey]time.Time
	calls []storeCall
	err   error // returned instead of recording, when set
}

type storeCall struct {
	ctx          context.Context
	key          gss.ReplayKey
	now, expires time.Time
}

func (s *mapStore) Remember(ctx context.Context, key gss.ReplayKey, now, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, storeCall{ctx, key, now, expires})
	if s.err != nil {
		return s.err
	}
	if s.seen == nil {
		s.seen = map[gss.ReplayKey]time.Time{}
	}
	if _, ok := s.seen[key]; ok {
		return gss.ErrReplay
	}
	s.seen[key] = expires
	return nil
}

type ctxKey struct{}

// TestReplayExpiry: the store is asked to remember an authenticator until
// the last instant it would pass the time checks: its time plus the
// skew, or the ticket's end plus the skew when that comes first; the
// acceptor's context and clock reach the store.
func TestReplayExpiry(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	now := time.Now().Truncate(time.Second)
	skew := 3 * time.Minute
	for name, c := range map[string]struct {
		lifetime time.Duration // of the ticket, from now
		ctime    time.Time     // the authenticator's time
		want     time.Time
	}{
		"authenticator time":         {time.Hour, now.Add(-time.Minute), now.Add(-time.Minute + skew)},
		"authenticator from ahead":   {time.Hour, now.Add(2 * time.Minute), now.Add(2*time.Minute + skew)},
		"ticket ending first":        {time.Minute, now.Add(2 * time.Minute), now.Add(time.Minute + skew)},
		"ticket ended, within skew":  {-time.Minute, now, now.Add(-time.Minute + skew)},
		"authenticator at skew edge": {time.Hour, now.Add(-skew), now},
	} {
		t.Run(name, func(t *testing.T) {
			store := &mapStore{}
			a := newAcceptor(t, svc, func(cfg *gss.AcceptorConfig) {
				cfg.ReplayStore, cfg.MaxSkew, cfg.Now = store, skew, fixedClock(now)
			})
			tkt := svc.Ticket(t, "alice", krbtest.WithStart(now.Add(-2*time.Hour)), krbtest.WithLifetime(2*time.Hour+c.lifetime))
			_, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Now: fixedClock(c.ctime)})
			ctx := context.WithValue(context.Background(), ctxKey{}, name)
			if _, err := a.AcceptContext(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if len(store.calls) != 1 {
				t.Fatalf("%d store calls, want 1", len(store.calls))
			}
			call := store.calls[0]
			if !call.expires.Equal(c.want) || !call.now.Equal(now) || call.ctx.Value(ctxKey{}) != name {
				t.Fatalf("Remember(now %v, expires %v), want (now %v, expires %v) and the caller's context", call.now, call.expires, now, c.want)
			}
		})
	}
}

// TestReplayKeyIdentifiesTheAuthenticator: the same token gives the same
// key (in SPNEGO and raw framing alike, since the key comes from the
// authenticator), and two tokens from one ticket in the same microsecond
// give different keys.
func TestReplayKeyIdentifiesTheAuthenticator(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	store := &mapStore{}
	a := newAcceptor(t, svc, func(cfg *gss.AcceptorConfig) { cfg.ReplayStore = store })
	tkt := svc.Ticket(t, "alice")
	now := time.Now()
	_, tok1 := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Now: fixedClock(now)})
	_, tok2 := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Now: fixedClock(now)})
	for _, tok := range [][]byte{tok1, tok2} {
		if _, err := a.Accept(tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Accept(tok1); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("replay: %v, want ErrReplay", err)
	}
	if store.calls[0].key == store.calls[1].key || store.calls[2].key != store.calls[0].key {
		t.Fatalf("keys %x %x %x: want two distinct, the replay equal to the first", store.calls[0].key, store.calls[1].key, store.calls[2].key)
	}
}

// TestReplayStoreFailureRefuses: a store that cannot record refuses the
// authentication with ErrReplayStore wrapping the store's error, never
// ErrReplay, and no reply token.
func TestReplayStoreFailureRefuses(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	storeErr := errors.New("store down")
	a := newAcceptor(t, svc, func(cfg *gss.AcceptorConfig) { cfg.ReplayStore = &mapStore{err: storeErr} })
	_, tok := newInitiator(t, svc, gss.InitiatorConfig{Flags: gss.FlagMutual})
	acc, err := a.Accept(tok)
	if acc != nil || !errors.Is(err, gss.ErrReplayStore) || !errors.Is(err, storeErr) || errors.Is(err, gss.ErrReplay) {
		t.Fatalf("Accept: %v, %v; want ErrReplayStore wrapping the store's error", acc, err)
	}
}
