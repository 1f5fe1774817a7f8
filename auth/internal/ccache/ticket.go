package ccache

import (
	"fmt"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// FromTicket is the cache entry MIT stores for tkt: the server named in
// the ticket, the session key, the times, and the flags in MIT's order.
func FromTicket(tkt *ticket.Ticket) (*Credential, error) {
	der, err := tkt.Ticket.Marshal()
	if err != nil {
		return nil, fmt.Errorf("ccache: encode ticket: %w", err)
	}
	var flags uint32
	for i, b := range tkt.Flags.Bytes {
		if i < 4 {
			flags |= uint32(b) << (24 - 8*i)
		}
	}
	sname := tkt.Ticket.SName
	return &Credential{
		Client:    Principal{NameType: tkt.Client.NameType, Components: tkt.Client.NameString, Realm: tkt.ClientRealm},
		Server:    Principal{NameType: sname.NameType, Components: sname.NameString, Realm: tkt.Ticket.Realm},
		Key:       Key{EncType: tkt.SessionKey.KeyType, Value: tkt.SessionKey.KeyValue},
		AuthTime:  tkt.AuthTime,
		StartTime: tkt.StartTime,
		EndTime:   tkt.EndTime,
		RenewTill: tkt.RenewTill,
		Flags:     flags,
		Ticket:    der,
	}, nil
}

// ForTickets is a version 4 cache holding tkts, in order, whose default
// principal is the first one's client: what kinit followed by kvno would
// leave. It needs at least one ticket.
func ForTickets(tkts ...*ticket.Ticket) (*Cache, error) {
	if len(tkts) == 0 {
		return nil, fmt.Errorf("ccache: a cache needs at least one ticket")
	}
	c := &Cache{Version: 4}
	for _, t := range tkts {
		cred, err := FromTicket(t)
		if err != nil {
			return nil, err
		}
		c.Credentials = append(c.Credentials, cred)
	}
	c.Principal = c.Credentials[0].Client
	return c, nil
}
