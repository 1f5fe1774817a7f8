package gss

import (
	"context"
	"crypto/sha256"
	"time"
)

// ReplayKey identifies one authenticator in a replay store: the first 16
// bytes of a SHA-256 over its ciphertext. The ciphertext alone suffices
// (it is what MIT's replay cache keys on too): it carries the client's
// name and time inside, a random confounder makes two authenticators of
// the same client and microsecond differ, and a replay is byte-identical
// because no one without the session key can produce another valid
// ciphertext for the same authenticator. 128 bits keep entries compact
// while collisions stay out of reach.
type ReplayKey [16]byte

// replayKeyOf returns the key of an authenticator ciphertext.
func replayKeyOf(cipher []byte) ReplayKey {
	h := sha256.New()
	h.Write([]byte("krbhttp replay key v1\x00"))
	h.Write(cipher)
	var sum [sha256.Size]byte
	return ReplayKey(h.Sum(sum[:0]))
}

// ReplayStore remembers the authenticators an [Acceptor] accepted, so that a
// captured token cannot be used twice (RFC 4120 3.2.3). Package acceptor
// has the implementations: in memory, in a file that survives restarts,
// and (module redisstore) on a Redis server that replicas share.
//
// Remember records key and must keep it at least until expires, the last
// instant at which the same authenticator would still pass the
// acceptor's time checks (its time plus the clock skew, and no later than
// the ticket's end time plus the skew); now is the acceptor's clock at the
// call. It returns nil when the key is new, an error wrapping [ErrReplay]
// when the key is already remembered, and any other error when it cannot
// record the key (full, unreachable, I/O): the acceptor then refuses the
// authentication, since accepting a token it cannot remember would leave
// it open to replay.
//
// The check and the insertion must be atomic: of two concurrent calls with
// one key exactly one returns nil. A store must be safe for concurrent
// use.
type ReplayStore interface {
	Remember(ctx context.Context, key ReplayKey, now, expires time.Time) error
}
