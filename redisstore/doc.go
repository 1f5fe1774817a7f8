// Package redisstore keeps the acceptor's replay cache on a Redis server,
// so that any number of replicas of a service behind a load balancer share
// it: a token accepted by one replica is refused by every other.
//
// Each accepted authenticator becomes one key, set with SET key 1 NX PX
// ttl: the check and the insertion are one atomic command, so of two
// replicas given the same token at the same instant exactly one succeeds,
// and Redis drops the key once the authenticator could no longer be
// accepted (plus a margin for the replicas' clocks, [WithClockMargin]).
//
//	store, err := redisstore.New(redisstore.NewClient("redis.example.com:6379"),
//		redisstore.WithLogger(logger))
//	...
//	a, err := acceptor.New(kt, acceptor.WithReplayStore(store))
//
// When Redis cannot be reached (or refuses the write, e.g. at its
// maxmemory), Remember fails with acceptor.ErrReplayStoreUnavailable (or
// acceptor.ErrReplayCacheFull) and the acceptor refuses the authentication
// with 503: fail closed, the default. [WithFailOpen] accepts such
// authentications without a replay check instead, and logs at error level
// that replay protection is off, for as long as it is.
//
// What Redis must guarantee: the eviction policy must be noeviction
// (any other policy may drop live entries; [Store.Check] says so), and a
// Redis restart forgets every entry unless persistence is on (appendonly
// yes; appendfsync everysec loses at most a second of entries in a crash
// of the Redis host). The client must not retry writes: a retried SET NX
// that had in fact been applied reads as a replay ([NewClient] sets that
// up).
//
// It is its own module so that package auth does not depend on a Redis
// client; the client is github.com/redis/go-redis/v9.
package redisstore
