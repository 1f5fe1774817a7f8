package gss

import (
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
)

// Sentinel errors. Every error returned by this package wraps at least one
// of them, so callers can classify failures with [errors.Is] without parsing
// messages; the message carries the detail for logs.
var (
	// ErrMalformedToken: a token that cannot be decoded (truncated, wrong
	// OID or token ID, bad DER, trailing bytes, bad checksum framing).
	ErrMalformedToken = errors.New("gss: malformed token")
	// ErrRejected: the acceptor refused the context (SPNEGO reject or a
	// KRB-ERROR token, see [KRBError]).
	ErrRejected = errors.New("gss: rejected by acceptor")
	// ErrMutualAuth: mutual authentication failed; the acceptor did not
	// prove knowledge of the session key.
	ErrMutualAuth = errors.New("gss: mutual authentication failed")
	// ErrReplay: the authenticator was seen before.
	ErrReplay = errors.New("gss: replayed authenticator")
	// ErrReplayStore: the replay store could not record an authenticator
	// (full, unreachable, I/O error), so it was refused: accepting what
	// cannot be remembered would let it be replayed. The store's own
	// error is wrapped too.
	ErrReplayStore = errors.New("gss: replay store cannot record the authenticator")
	// ErrClockSkew: the authenticator time is too far from the acceptor's
	// clock.
	ErrClockSkew = errors.New("gss: clock skew too great")
	// ErrWrongRealm: the client realm is not accepted, or the authenticator
	// names a different realm than the ticket.
	ErrWrongRealm = errors.New("gss: client realm not accepted")
	// ErrBadBindings: the channel bindings do not match.
	ErrBadBindings = errors.New("gss: channel bindings do not match")
	// ErrUnknownService: the ticket is for a service the acceptor does not
	// serve or has no key for (wrong principal, kvno or enctype).
	ErrUnknownService = errors.New("gss: ticket for unknown service")
	// ErrIntegrity: the ticket or authenticator failed to decrypt, or the
	// authenticator does not belong to the ticket. A stale keytab (the
	// service key changed without the keytab being updated) shows up here.
	ErrIntegrity = errors.New("gss: integrity check failed")
	// ErrTicketExpired: the ticket is expired, not yet valid or flagged
	// invalid.
	ErrTicketExpired = errors.New("gss: ticket expired or not yet valid")
	// ErrUnsupported: a valid token asks for something this package does
	// not do: another mechanism than Kerberos, user-to-user, a SPNEGO
	// exchange that needs more legs than the optimistic Kerberos token.
	ErrUnsupported = errors.New("gss: unsupported")
)

// errAlreadyAccepted is returned when Initiator.Accept is called twice: the
// Kerberos mechanism has exactly one reply token.
var errAlreadyAccepted = errors.New("gss: reply token already processed")

// KRBError is a KRB-ERROR sent by the acceptor instead of an AP-REP. It
// matches [ErrRejected] with [errors.Is].
type KRBError struct {
	Code int32  // RFC 4120 error code, e.g. 37 KRB_AP_ERR_SKEW
	Text string // e-text, often empty
}

func (e *KRBError) Error() string {
	msg := "gss: acceptor returned KRB-ERROR " + errorcode.Lookup(e.Code)
	if e.Text != "" {
		msg += ": " + e.Text
	}
	return msg
}

// Is makes a KRBError match ErrRejected.
func (e *KRBError) Is(target error) bool { return target == ErrRejected }

// malformed wraps ErrMalformedToken with a formatted detail.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedToken, fmt.Sprintf(format, args...))
}

// guard runs a gokrb5 (or gofork asn1) decoder on untrusted bytes. Their
// error becomes ErrMalformedToken; a panic does too. The recover is only a
// last line of defence: we length-check what we know to be dangerous
// before calling, but those decoders were not written for hostile input and
// one panicking request must not take an HTTP server down.
func guard(what string, decode func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: decoder panic: %v", ErrMalformedToken, what, r)
		}
	}()
	if err := decode(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformedToken, what, err)
	}
	return nil
}
