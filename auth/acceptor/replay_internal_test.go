package acceptor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// TestDefaultReplayCacheSize checks the arithmetic of the default bound:
// DefaultReplayRate authenticators a second, each held for at most twice
// the skew plus ten seconds.
func TestDefaultReplayCacheSize(t *testing.T) {
	if DefaultReplayRate != 1000 || DefaultReplayCacheSize != 610_000 {
		t.Fatalf("DefaultReplayRate %d, DefaultReplayCacheSize %d; want 1000 and 1000 * (2*300 s + 10 s)", DefaultReplayRate, DefaultReplayCacheSize)
	}
	for skew, want := range map[time.Duration]int{
		5 * time.Minute:                      DefaultReplayCacheSize,
		10 * time.Minute:                     1000 * 1210,
		time.Second:                          1000 * 12,
		5*time.Minute + 250*time.Millisecond: 1000 * 611, // 600.5 s + 10 s, rounded up
	} {
		if got := replayCacheSizeFor(skew); got != want {
			t.Errorf("skew %v: bound %d, want %d", skew, got, want)
		}
	}
}

// TestDefaultBoundHoldsTheDefaultRate runs the default store at
// DefaultReplayRate for 700 s of simulated time (more than the window, so
// it reaches its steady state), with every authenticator from a client a
// whole skew ahead (the longest an entry can live): it never fills, and
// every authenticator stays remembered for its whole window.
func TestDefaultBoundHoldsTheDefaultRate(t *testing.T) {
	if testing.Short() {
		t.Skip("700,000 insertions")
	}
	s := NewMemoryReplayStore(0)
	const skew = 5 * time.Minute
	t0 := time.Unix(1_700_000_000, 0)
	var probe gss.ReplayKey
	peak := 0
	for ms := range 700_000 { // one authenticator a millisecond
		now := t0.Add(time.Duration(ms) * time.Millisecond)
		k := key(ms)
		if err := s.Remember(context.Background(), k, now, now.Add(2*skew)); err != nil {
			t.Fatalf("at %v: %v (%d entries)", now.Sub(t0), err, s.Len())
		}
		if ms == 1000 {
			probe = k
		}
		peak = max(peak, s.Len())
	}
	// The probe's window (2 skews from 1 s) has passed; a key inserted
	// 599 s ago has not.
	now := t0.Add(700 * time.Second)
	if err := s.Remember(context.Background(), probe, now, now.Add(time.Minute)); err != nil {
		t.Fatalf("expired entry still held: %v", err)
	}
	if err := s.Remember(context.Background(), key(101_000), now, now.Add(time.Minute)); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("entry inside its window: %v, want ErrReplay", err)
	}
	t.Logf("peak %d entries of %d", peak, DefaultReplayCacheSize)
}

// key spreads i over the shards, as real keys (hashes) are spread.
func key(i int) gss.ReplayKey {
	return gss.ReplayKey{byte(i * 97), byte(i >> 8), byte(i >> 16), byte(i >> 24), byte(i)}
}

func TestCeilMilli(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	for in, want := range map[time.Time]int64{
		t0:                             t0.UnixMilli(),
		t0.Add(time.Nanosecond):        t0.UnixMilli() + 1,
		t0.Add(999 * time.Microsecond): t0.UnixMilli() + 1,
		t0.Add(-time.Nanosecond):       t0.UnixMilli(),
	} {
		if got := ceilMilli(in); got != want {
			t.Errorf("ceilMilli(%v) = %d, want %d", in, got, want)
		}
	}
}

// TestHeapOrder drops entries in expiry order whatever the insertion
// order.
func TestHeapOrder(t *testing.T) {
	var sh memShard
	sh.keys = map[gss.ReplayKey]struct{}{}
	for _, e := range []int64{50, 10, 40, 30, 20, 60, 10} {
		sh.push(memEntry{expires: e})
	}
	var got []int64
	for len(sh.heap) > 0 {
		got = append(got, sh.pop().expires)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("popped %v, not in order", got)
		}
	}
}
