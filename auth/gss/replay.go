package gss

import (
	"sync"
	"time"
)

// Defaults for NewReplayCache arguments that are not positive.
const (
	defaultReplayMax    = 100_000
	defaultReplayWindow = 2 * defaultMaxSkew
)

// ReplayCache remembers authenticators an [Acceptor] has accepted so that a
// captured token cannot be used twice (RFC 4120 3.2.3). It holds at most
// max entries for window each, expires them lazily (no goroutine, nothing
// to stop) and is safe for concurrent use; one cache may be shared by
// several Acceptors. It lives in memory: processes behind a load balancer
// do not see each other's entries.
//
// When full, the oldest entry is evicted even if it has not expired: that
// weakens replay detection for it rather than refusing every new client.
// Size max for the peak logins per window.
type ReplayCache struct {
	max    int
	window time.Duration

	mu     sync.Mutex
	expiry map[replayKey]time.Time // guarded by mu
	order  []replayEntry           // guarded by mu; insertion order, for eviction
}

type replayKey [32]byte

type replayEntry struct {
	key    replayKey
	expiry time.Time
}

// NewReplayCache returns a cache of at most max entries (100000 if max <=
// 0) kept for window (10 minutes if window <= 0). The window must cover the
// whole time an authenticator passes the skew check, twice the acceptor's
// MaxSkew; NewAcceptor refuses a shorter one.
func NewReplayCache(max int, window time.Duration) *ReplayCache {
	if max <= 0 {
		max = defaultReplayMax
	}
	if window <= 0 {
		window = defaultReplayWindow
	}
	return &ReplayCache{max: max, window: window, expiry: make(map[replayKey]time.Time)}
}

// checkAndInsert records key and reports whether it was new. The check and
// the insertion happen under one lock, so of two concurrent requests
// carrying the same authenticator exactly one wins.
func (c *ReplayCache) checkAndInsert(key replayKey, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if exp, ok := c.expiry[key]; ok && now.Before(exp) {
		return false
	}
	for len(c.expiry) >= c.max {
		c.evictOldest()
	}
	exp := now.Add(c.window)
	c.expiry[key] = exp
	c.order = append(c.order, replayEntry{key, exp})
	return true
}

// expire drops expired entries from the front of the insertion order. With
// a clock that only moves forward that is all of them; entries stuck behind
// one that moved backwards go later, by expiry or eviction.
func (c *ReplayCache) expire(now time.Time) {
	for len(c.order) > 0 && !now.Before(c.order[0].expiry) {
		c.evictOldest()
	}
}

// evictOldest removes the entry inserted first. The map entry is deleted
// only if it still belongs to that insertion: the key may have expired and
// been inserted again since.
func (c *ReplayCache) evictOldest() {
	e := c.order[0]
	c.order[0] = replayEntry{}
	c.order = c.order[1:]
	if c.expiry[e.key].Equal(e.expiry) {
		delete(c.expiry, e.key)
	}
}

// Len returns the number of entries held, expired ones not yet dropped
// included.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expiry)
}
