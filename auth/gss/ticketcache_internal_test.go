package gss

import (
	"fmt"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"
)

// TestTicketCacheBound: the cache never holds more than its byte bound,
// drops tickets that have ended before live ones, and refuses a ticket
// larger than its per-ticket bound.
func TestTicketCacheBound(t *testing.T) {
	t.Parallel()
	now := time.Now()
	entry := func(end time.Time) *decryptedTicket {
		return &decryptedTicket{tkt: messages.Ticket{DecryptedEncPart: messages.EncTicketPart{EndTime: end}}}
	}
	der := func(i int) []byte { return fmt.Appendf(make([]byte, 0, 100), "%0100d", i) } // 100 bytes: 300 counted
	c := newTicketCache(1500)                                                           // room for 5
	for i := range 4 {
		c.add(der(i), entry(now.Add(time.Hour)), now)
	}
	c.add(der(4), entry(now.Add(-time.Minute)), now) // ended
	if c.len() != 5 || c.bytes != 1500 {
		t.Fatalf("%d entries, %d bytes; want 5, 1500", c.len(), c.bytes)
	}
	c.add(der(5), entry(now.Add(time.Hour)), now)
	if c.get(der(4)) != nil {
		t.Error("the ended ticket was kept and a live one evicted")
	}
	for i := range 200 {
		c.add(der(10+i), entry(now.Add(time.Hour)), now)
		if c.bytes > c.maxBytes || c.len() > 5 {
			t.Fatalf("after %d more: %d entries, %d bytes over the bound %d", i, c.len(), c.bytes, c.maxBytes)
		}
	}
	if c.get(der(209)) == nil {
		t.Error("the newest ticket is not cached")
	}
	big := make([]byte, ticketCacheMaxTicket)
	huge := newTicketCache(4 * ticketCacheMaxTicket)
	huge.add(big, entry(now.Add(time.Hour)), now)
	if huge.len() != 0 {
		t.Error("a ticket over the per-ticket bound was cached")
	}
}
