package ticket

import (
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Ticket is a ticket together with what its holder needs to use it: the
// session key, the client named in the ticket, and the flags and times
// the KDC reported in its reply. It is a plain value: sources hand out a
// new Ticket on each call and never change one they handed out.
type Ticket struct {
	Ticket      messages.Ticket // the ticket as the KDC issued it; SName and Realm name the service
	SessionKey  types.EncryptionKey
	Client      types.PrincipalName
	ClientRealm string
	Flags       asn1.BitString // RFC 4120 ticket flags (see gokrb5's iana/flags)
	AuthTime    time.Time
	StartTime   time.Time
	EndTime     time.Time
	RenewTill   time.Time
}

// ClientPrincipal returns the client as MIT writes it, "alice@EXAMPLE.COM".
func (t *Ticket) ClientPrincipal() string { return PrincipalString(t.Client, t.ClientRealm) }

// ServicePrincipal returns the service the ticket is for as MIT writes it,
// "HTTP/www.example.com@EXAMPLE.COM".
func (t *Ticket) ServicePrincipal() string { return PrincipalString(t.Ticket.SName, t.Ticket.Realm) }
