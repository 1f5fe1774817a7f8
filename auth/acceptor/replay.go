package acceptor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// ReplayStore remembers accepted authenticators so that a captured token
// cannot be used again; see [gss.ReplayStore] for the contract. The
// stores: [MemoryReplayStore] (the default), [FileReplayStore] (survives
// restarts; [WithReplayCacheDir]) and, in the separate module
// github.com/krbhttp/krbhttp/redisstore, one on a Redis server that any
// number of replicas share ([WithReplayStore]).
type ReplayStore = gss.ReplayStore

// Errors of the replay stores, also wrapped by the store errors that
// [gss.Acceptor] returns (gss.ErrReplayStore). Any of them refuses the
// authentication: the middleware answers 503 and logs it at error level.
var (
	// ErrReplayCacheFull: the store holds as many authenticators as its
	// bound allows, all still inside their window. Forgetting one would
	// let it be replayed, so new authentications are refused until
	// entries expire (fail closed). Size the bound for the peak rate of
	// authentications over twice the clock skew ([WithReplayCacheSize]).
	ErrReplayCacheFull = errors.New("acceptor: replay cache full")
	// ErrReplayStoreUnavailable: the store cannot be reached or written
	// (a Redis server down, a disk error).
	ErrReplayStoreUnavailable = errors.New("acceptor: replay store unavailable")
)

// DefaultReplayRate is the sustained rate of authentications per second
// (each one a new authenticator, as with per-request authentication) that
// the default bound of the replay cache is sized for.
const DefaultReplayRate = 1000

// replayCacheSizeFor is the default bound for a clock skew: an entry is
// held for at most twice the skew (an authenticator from a client clock
// skew ahead stays acceptable until skew past its time), plus ten seconds
// for the acceptor's clock being stepped back; DefaultReplayRate new
// entries a second over that never fill it.
func replayCacheSizeFor(skew time.Duration) int {
	return DefaultReplayRate * int((2*skew+10*time.Second+time.Second-1)/time.Second)
}

// memShards is the number of independently locked parts of a
// MemoryReplayStore: concurrent requests rarely wait on each other.
const memShards = 64

// MemoryReplayStore is a bounded replay store in memory, the default of
// [New]. Entries are compact (a 16-byte key and an expiry time, about 50
// bytes each with the structures that hold them) and are dropped only once
// their authenticator could no longer be accepted, never to make room:
// when the bound is reached, Remember fails with [ErrReplayCacheFull]
// until entries expire. It expires entries as it goes (no goroutine,
// nothing to stop), is split into independently locked shards for
// concurrent requests, and may be shared by several Authenticators. Its
// entries are lost when the process ends: see [FileReplayStore] to keep
// them across restarts.
type MemoryReplayStore struct {
	max    int64
	n      atomic.Int64 // entries held, over all shards
	shards [memShards]memShard
}

// memShard holds the keys whose first byte selects it: a set for lookups
// and a min-heap by expiry for dropping the expired ones in order.
type memShard struct {
	mu   sync.Mutex
	keys map[gss.ReplayKey]struct{} // guarded by mu
	heap []memEntry                 // guarded by mu
}

type memEntry struct {
	expires int64 // Unix milliseconds, rounded up
	key     gss.ReplayKey
}

// NewMemoryReplayStore returns a store of at most max entries; max <= 0
// means the default bound, sized for [DefaultReplayRate] authentications a
// second with the default 5-minute clock skew.
func NewMemoryReplayStore(max int) *MemoryReplayStore {
	if max <= 0 {
		max = DefaultReplayCacheSize
	}
	s := &MemoryReplayStore{max: int64(max)}
	for i := range s.shards {
		s.shards[i].keys = make(map[gss.ReplayKey]struct{})
	}
	return s
}

// Remember implements [ReplayStore].
func (s *MemoryReplayStore) Remember(_ context.Context, key gss.ReplayKey, now, expires time.Time) error {
	return s.remember(key, now.UnixMilli(), ceilMilli(expires))
}

// remember checks and inserts key under its shard's lock, so that of two
// concurrent calls with one key exactly one succeeds.
func (s *MemoryReplayStore) remember(key gss.ReplayKey, now, expires int64) error {
	sh := &s.shards[key[0]%memShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.n.Add(-sh.expire(now))
	if _, ok := sh.keys[key]; ok {
		return gss.ErrReplay
	}
	if !s.reserve() {
		// Expired entries may wait in shards no request touched lately:
		// drop them all, then try again. expireAll locks every shard in
		// turn, this one included, so this one's lock is let go first.
		sh.mu.Unlock()
		s.expireAll(now)
		sh.mu.Lock()
		if _, ok := sh.keys[key]; ok {
			return gss.ErrReplay
		}
		if !s.reserve() {
			return fmt.Errorf("%w: %d authenticators inside their window", ErrReplayCacheFull, s.max)
		}
	}
	sh.keys[key] = struct{}{}
	sh.push(memEntry{expires, key})
	return nil
}

// load inserts an entry read back from a file, past the bound if need be:
// it is live, and forgetting it would open it to replay.
func (s *MemoryReplayStore) load(key gss.ReplayKey, expires int64) {
	sh := &s.shards[key[0]%memShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.keys[key]; ok {
		return
	}
	sh.keys[key] = struct{}{}
	sh.push(memEntry{expires, key})
	s.n.Add(1)
}

// reserve counts one more entry if the bound allows it.
func (s *MemoryReplayStore) reserve() bool {
	for {
		n := s.n.Load()
		if n >= s.max {
			return false
		}
		if s.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (s *MemoryReplayStore) expireAll(now int64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		s.n.Add(-sh.expire(now))
		sh.mu.Unlock()
	}
}

// Len returns the number of entries held; expired ones that no call has
// dropped yet are included.
func (s *MemoryReplayStore) Len() int { return int(s.n.Load()) }

// each calls f with every entry held (for the file store's compaction).
func (s *MemoryReplayStore) each(f func(memEntry)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, e := range sh.heap {
			f(e)
		}
		sh.mu.Unlock()
	}
}

// expire drops the entries that expired before now and returns how many.
// An entry expiring at now itself is kept: the authenticator passes the
// time checks at that instant.
func (sh *memShard) expire(now int64) int64 {
	var n int64
	for len(sh.heap) > 0 && sh.heap[0].expires < now {
		delete(sh.keys, sh.pop().key)
		n++
	}
	return n
}

// push and pop keep sh.heap a binary min-heap on expires (container/heap
// would box every entry in an interface).
func (sh *memShard) push(e memEntry) {
	h := append(sh.heap, e)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].expires <= h[i].expires {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	sh.heap = h
}

func (sh *memShard) pop() memEntry {
	h := sh.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].expires < h[small].expires {
			small = l
		}
		if r < len(h) && h[r].expires < h[small].expires {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	// Give memory back once a burst has passed.
	if cap(h) > 1024 && len(h) < cap(h)/4 {
		h = append(make([]memEntry, 0, cap(h)/2), h...)
	}
	sh.heap = h
	return top
}

// ceilMilli rounds t up to a whole millisecond, so that an entry is never
// dropped before the instant it was asked to last until.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}
