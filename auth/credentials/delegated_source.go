package credentials

import (
	"context"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// DelegatedSource gets service tickets as a user who delegated a TGT to
// this process: the second hop of Kerberos delegation. A server receives
// the TGT in the client's authenticator (package acceptor hands it over
// ready-made) and uses the source like any other, for example in an
// auth.Transport, to call further services as that user.
//
// The source holds no secret of the user's and cannot log in again: when
// the delegated TGT expires, calls fail with an error matching ErrExpired
// and the user must authenticate (and delegate) anew. Service tickets are
// cached and shared like those of the other sources. A DelegatedSource is
// safe for concurrent use.
type DelegatedSource struct {
	*core
	cred *kdc.Credential
}

var (
	_ TGTSource = (*DelegatedSource)(nil)
	_ Dropper   = (*DelegatedSource)(nil)
)

// ErrNotTGT: a delegated credential is not a ticket-granting ticket
// (krbtgt/REALM), so no service tickets can be obtained with it.
var ErrNotTGT = errors.New("delegated credential is not a TGT")

// NewDelegatedSource returns a source acting as tgt's client with tgt, a
// ticket-granting ticket with its session key as delegated in a KRB-CRED
// (see gss.ParseKRBCred). cfg nil means krb5conf.Load(); its KDCs are asked
// for the service tickets. The options are those of the other sources;
// WithForwardable is ignored (the TGT is what the client forwarded).
func NewDelegatedSource(cfg *krb5conf.Config, tgt *ticket.Ticket, opts ...Option) (*DelegatedSource, error) {
	const op = "delegated credentials"
	if tgt == nil || len(tgt.Client.NameString) == 0 || tgt.ClientRealm == "" {
		return nil, &Error{Op: op, Err: withSentinel(ErrNoCredentials, "no delegated ticket or no client name in it", nil)}
	}
	client := ticket.PrincipalString(tgt.Client, tgt.ClientRealm)
	sname := tgt.Ticket.SName
	cred := &kdc.Credential{
		Client:      tgt.Client,
		ClientRealm: tgt.ClientRealm,
		Server:      sname,
		ServerRealm: tgt.Ticket.Realm,
		Ticket:      tgt.Ticket,
		SessionKey:  tgt.SessionKey,
		Flags:       tgt.Flags,
		AuthTime:    tgt.AuthTime,
		StartTime:   tgt.StartTime,
		EndTime:     tgt.EndTime,
		RenewTill:   tgt.RenewTill,
	}
	if !cred.IsTGT() {
		return nil, &Error{Op: op, Principal: client, Err: fmt.Errorf("%w: it is for %s", ErrNotTGT, ticket.PrincipalString(sname, tgt.Ticket.Realm))}
	}
	if cred.StartTime.IsZero() {
		cred.StartTime = cred.AuthTime
	}
	_, c, err := newCore(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &DelegatedSource{core: c, cred: cred}, nil
}

func (s *DelegatedSource) client() (types.PrincipalName, string, error) {
	return s.cred.Client, s.cred.ClientRealm, nil
}

func (s *DelegatedSource) tgt(context.Context) (*kdc.Credential, error) {
	if !s.valid(s.cred) {
		return nil, withSentinel(ErrExpired, fmt.Sprintf("the TGT %s delegated expired at %s; the client must authenticate again",
			ticket.PrincipalString(s.cred.Client, s.cred.ClientRealm), s.cred.EndTime.UTC().Format("2006-01-02 15:04:05Z")), nil)
	}
	return s.cred, nil
}

func (s *DelegatedSource) stored(string) *kdc.Credential { return nil }

// ServiceTicket implements Source: a ticket for spn as the delegating
// user.
func (s *DelegatedSource) ServiceTicket(ctx context.Context, spn string) (*ticket.Ticket, error) {
	return s.serviceTicket(ctx, s, spn)
}

// DropTicket implements Dropper.
func (s *DelegatedSource) DropTicket(spn string, tkt *ticket.Ticket) {
	s.dropTicket(context.Background(), s, spn, tkt)
}

// TGT returns the delegated TGT while it is valid.
func (s *DelegatedSource) TGT(ctx context.Context) (*ticket.Ticket, error) {
	return s.tgtTicket(ctx, s)
}

// ForwardedTGT returns a forwarded copy of the delegated TGT, to delegate
// further (a third hop); the client must have delegated a forwardable
// TGT, else the error matches ErrNotForwardable.
func (s *DelegatedSource) ForwardedTGT(ctx context.Context) (*ticket.Ticket, error) {
	return s.forwardedTGT(ctx, s)
}

// Principal returns the delegating user, name@REALM.
func (s *DelegatedSource) Principal() string {
	return ticket.PrincipalString(s.cred.Client, s.cred.ClientRealm)
}
