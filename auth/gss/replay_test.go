package gss

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func key(i int) replayKey { return replayKey{byte(i), byte(i >> 8), byte(i >> 16)} }

func TestReplayCacheExpiry(t *testing.T) {
	c := NewReplayCache(10, time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	if !c.checkAndInsert(key(1), t0) {
		t.Fatal("first insert refused")
	}
	if c.checkAndInsert(key(1), t0.Add(59*time.Second)) {
		t.Fatal("replay within the window accepted")
	}
	if !c.checkAndInsert(key(1), t0.Add(time.Minute)) {
		t.Fatal("refused after the window")
	}
	if c.Len() != 1 {
		t.Fatalf("Len %d after expiry and re-insert", c.Len())
	}
	// The stale insertion record of the first key must not delete the
	// second insertion when it is evicted.
	if c.checkAndInsert(key(1), t0.Add(90*time.Second)) {
		t.Fatal("re-inserted key forgotten")
	}
}

func TestReplayCacheBounded(t *testing.T) {
	c := NewReplayCache(100, time.Hour)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 1000 {
		if !c.checkAndInsert(key(i), t0) {
			t.Fatalf("key %d refused", i)
		}
		if c.Len() > 100 {
			t.Fatalf("Len %d above max", c.Len())
		}
	}
	if len(c.order) > 100 {
		t.Fatalf("order holds %d entries", len(c.order))
	}
	// The newest are remembered, the oldest evicted.
	if c.checkAndInsert(key(999), t0) || !c.checkAndInsert(key(0), t0) {
		t.Fatal("eviction order")
	}
}

func TestReplayCacheClockBackwards(t *testing.T) {
	c := NewReplayCache(10, time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	c.checkAndInsert(key(1), t0)
	c.checkAndInsert(key(2), t0.Add(-time.Hour)) // expires before key 1, stuck behind it
	if c.checkAndInsert(key(2), t0.Add(-time.Hour+time.Second)) {
		t.Fatal("replay accepted")
	}
	if !c.checkAndInsert(key(2), t0.Add(-time.Hour+2*time.Minute)) {
		t.Fatal("expired entry behind a live one not replaced")
	}
}

func TestReplayCacheDefaults(t *testing.T) {
	c := NewReplayCache(-1, -1)
	if c.max != defaultReplayMax || c.window != defaultReplayWindow {
		t.Fatalf("%d %v", c.max, c.window)
	}
}

func TestReplayCacheConcurrent(t *testing.T) {
	c := NewReplayCache(1000, time.Minute)
	now := time.Now()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 500 {
				if c.checkAndInsert(key(i), now) {
					wins.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 500 {
		t.Fatalf("%d distinct keys won, want 500", wins.Load())
	}
}
