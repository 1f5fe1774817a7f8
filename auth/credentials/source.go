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
