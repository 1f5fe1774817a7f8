package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/flags"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// delegation returns the KRB-CRED to put in the token for tkt, or nil when
// the policy says not to delegate to this service.
func (t *Transport) delegation(ctx context.Context, src credentials.Source, tkt *ticket.Ticket) ([]byte, error) {
	switch t.cfg.delegation {
	case DelegateNever:
		return nil, nil
	case DelegatePolicy:
		if !flagSet(tkt.Flags, flags.OKAsDelegate) {
			t.log(ctx, slog.LevelDebug, "negotiate: not delegating, the service is not trusted for delegation (no OK-AS-DELEGATE)",
				"service", tkt.Ticket.SName.PrincipalNameString())
			return nil, nil
		}
	}
	ts, ok := src.(credentials.TGTSource)
	if !ok {
		// NewTransport refuses such a source; this is for one replaced
		// behind our back.
		return nil, &DelegationError{Err: errors.New("the credential source cannot forward a TGT")}
	}
	fwd, err := ts.ForwardedTGT(ctx)
	if err != nil {
		return nil, &DelegationError{Err: err}
	}
	krbCred, err := gss.MarshalKRBCred(fwd, tkt.SessionKey)
	if err != nil {
		return nil, &DelegationError{Err: err}
	}
	t.log(ctx, slog.LevelDebug, "negotiate: delegating a forwarded TGT", "service", tkt.Ticket.SName.PrincipalNameString())
	return krbCred, nil
}

// flagSet reads a ticket flag, checking the bit string's length that
// types.IsFlagSet does not.
func flagSet(bs asn1.BitString, bit int) bool {
	return bit/8 < len(bs.Bytes) && bs.Bytes[bit/8]&(0x80>>(bit%8)) != 0
}
