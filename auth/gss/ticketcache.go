package gss

import (
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"
)

// A client sends the same service ticket with every request until it
// expires, hours later; only the authenticator beside it is new. Decrypting
// that ticket, decoding it and deriving the session key's per-usage keys
// again on every request was about a third of the acceptor's work, so the
// outcome is kept, keyed by the ticket's whole encoding: the same bytes
// decrypt to the same EncTicketPart under a keytab that does not change
// (AcceptorConfig.Keytab must not be modified), and since the service name,
// realm, kvno and enctype are part of the key, a ticket relabelled for
// another service is a miss and goes through the full checks. Only tickets
// that decrypted are kept, so input that fails costs the cache nothing; a
// hit skips the ticket's decoding as well.
// Everything checked against the clock (validity, skew) is still checked
// on every request.
const (
	// ticketCacheMaxBytes bounds the memory the cache holds: encodings
	// plus decrypted parts, about 1 KiB per MIT ticket without a PAC and a
	// few KiB with one.
	ticketCacheMaxBytes = 4 << 20
	// ticketCacheMaxTicket keeps exceptional tickets (a PAC with
	// thousands of groups) from displacing everything else.
	ticketCacheMaxTicket = 64 << 10
)

// decryptedTicket is a ticket accepted once, decoded and decrypted, with
// its session key. It is shared by every request that presents the ticket
// and never modified.
type decryptedTicket struct {
	tkt  messages.Ticket
	sk   *cryptoKey
	size int
}

// ticketCache is safe for concurrent use; lookups share a read lock.
type ticketCache struct {
	mu       sync.RWMutex
	m        map[string]*decryptedTicket
	bytes    int
	maxBytes int
}

func newTicketCache(maxBytes int) *ticketCache {
	return &ticketCache{m: make(map[string]*decryptedTicket), maxBytes: maxBytes}
}

func (c *ticketCache) get(der []byte) *decryptedTicket {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[string(der)]
}

// add keeps d for der. When the bound is reached, tickets that ended
// before expiredBefore go first, then arbitrary others: map iteration
// order is random, so no client can arrange to stay or to evict another.
func (c *ticketCache) add(der []byte, d *decryptedTicket, expiredBefore time.Time) {
	d.size = 3 * len(der) // the key, the decoded copy, the decrypted part
	if d.size > ticketCacheMaxTicket || d.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[string(der)]; ok {
		return
	}
	if c.bytes+d.size > c.maxBytes {
		for k, e := range c.m {
			if e.tkt.DecryptedEncPart.EndTime.Before(expiredBefore) {
				c.remove(k, e)
			}
		}
		for k, e := range c.m {
			if c.bytes+d.size <= c.maxBytes {
				break
			}
			c.remove(k, e)
		}
	}
	c.m[string(der)] = d
	c.bytes += d.size
}

func (c *ticketCache) remove(k string, e *decryptedTicket) {
	delete(c.m, k)
	c.bytes -= e.size
}

func (c *ticketCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
