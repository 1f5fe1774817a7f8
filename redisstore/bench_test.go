package redisstore_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/redisstore/redistest"
)

// BenchmarkRemember measures one Remember of a new key (one SET NX PX
// round trip to a redis-server on loopback), from parallel goroutines, as
// acceptor.BenchmarkReplayStore measures the memory and file stores.
func BenchmarkRemember(b *testing.B) {
	srv := redistest.Start(b)
	s := newStore(b, client(b, srv))
	var next atomic.Int64
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if err := s.Remember(bg, rkey(int(i)), now, now.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
