package credentials

import (
	"context"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// Source hands out service tickets.
//
// ServiceTicket returns a ticket for the service principal spn, written
// "service/host" (for example "HTTP/www.example.com"), in the realm the
// source's configuration maps the host to. Implementations must be safe for
// concurrent use and should honour ctx for any network exchange.
type Source interface {
	ServiceTicket(ctx context.Context, spn string) (*ticket.Ticket, error)
}

// TGTSource is a Source that also hands out its ticket-granting ticket, for
// delegation (a KRB-CRED carrying a forwarded TGT). All sources of this
// package implement it.
type TGTSource interface {
	Source
	// TGT returns the current TGT for the client's realm.
	TGT(ctx context.Context) (*ticket.Ticket, error)
	// ForwardedTGT returns a TGT with the FORWARDED flag, obtained from
	// the KDC with the current TGT, which must be forwardable (else the
	// error matches ErrNotForwardable).
	ForwardedTGT(ctx context.Context) (*ticket.Ticket, error)
}

// Dropper is a Source that can forget a service ticket a server refused.
// When a server answers a token built from a ticket with another 401 (its
// key changed since the ticket was issued: a rotated keytab, a service
// moved to another account), auth.Transport calls DropTicket and retries
// once with the ticket ServiceTicket then returns, if that is another
// one. All sources of this package implement it; it is separate from
// Source so that existing implementations of Source stay valid.
type Dropper interface {
	Source
	// DropTicket reports that the service spn refused tkt, a ticket this
	// source handed out for it, so that the next ServiceTicket call for
	// spn gets a new one. Sources of this package drop tkt only if it is
	// still the one they hold for spn (a ticket obtained after it is
	// kept), skip it in a credential cache file too, and keep it when a
	// ticket for spn was dropped less than RefusedHoldOff ago: a service
	// that refuses fresh tickets too must not cost a KDC request per call.
	// Safe for concurrent use.
	DropTicket(spn string, tkt *ticket.Ticket)
}
