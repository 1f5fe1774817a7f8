package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/krbhttp/krbhttp/auth/credentials"
)

var (
	// ErrBodyNotReplayable is returned when a server challenges a request
	// whose body can be neither rewound (no GetBody) nor replayed from the
	// copy kept of it (see [WithReplayBuffer]); the error's message names
	// the ways out.
	ErrBodyNotReplayable = errors.New("auth: request body cannot be replayed after the 401 challenge")
	// ErrTokenRefused is what [ResponseError] reports (inside a
	// [*NegotiateError]) for a 401 that answered a token: the server
	// refused it, and a fresh ticket, when the source could give one, was
	// refused too. Typical causes: the server's keytab does not hold the
	// key the KDC has for the service (rotated since, or a wrong kvno),
	// clocks too far apart, channel bindings the server does not accept.
	ErrTokenRefused = errors.New("auth: the server refused the Kerberos token")
	// ErrMalformedHeader marks a WWW-Authenticate value that cannot be
	// decoded.
	ErrMalformedHeader = errors.New("auth: malformed Negotiate header")
	// ErrMutualAuthentication is matched by every
	// [*MutualAuthenticationError].
	ErrMutualAuthentication = errors.New("auth: mutual authentication failed")
)

// MutualAuthenticationError says the server did not prove its identity. The
// response it refers to is kept for inspection; its body has been closed
// and replaced by an empty one, because its content cannot be trusted.
//
// The refusal comes after the fact: the request reached a server, which
// processed it and answered (the message names the status), so a PUT or
// POST may well have taken effect. Do not simply retry a request that is
// not idempotent; when a server is known not to authenticate itself, give
// its requests another mode ([WithMutualAuthenticationFor],
// [WithMutualAuthenticationPolicy]) before sending them.
type MutualAuthenticationError struct {
	Response *http.Response
	Reason   string
	Err      error // the verification failure, nil when no token came back
}

func (e *MutualAuthenticationError) Error() string {
	msg := "auth: unable to authenticate the server"
	if e.Response != nil && e.Response.Request != nil && e.Response.Request.URL != nil {
		msg += fmt.Sprintf(" (%s %s)", e.Response.Request.Method, redactedURL(e.Response.Request))
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Response != nil {
		status := e.Response.Status
		if status == "" {
			status = fmt.Sprintf("%d %s", e.Response.StatusCode, http.StatusText(e.Response.StatusCode))
		}
		msg += "; the server had already processed the request and answered " + status
	}
	return msg
}

func (e *MutualAuthenticationError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMutualAuthentication) true.
func (e *MutualAuthenticationError) Is(target error) bool { return target == ErrMutualAuthentication }

// NegotiateError says why the transport could not answer a Negotiate
// challenge: no credentials, expired tickets, an unreachable KDC, an SPN the
// KDC does not know. The 401 is still returned to the caller, as
// requests-kerberos does; [ResponseError] retrieves this error from it.
type NegotiateError struct {
	SPN string
	Err error
}

func (e *NegotiateError) Error() string {
	msg := fmt.Sprintf("auth: cannot authenticate to %s: %v", e.SPN, e.Err)
	if r := remedy(e.Err); r != "" {
		msg += " (" + r + ")"
	}
	return msg
}

func (e *NegotiateError) Unwrap() error { return e.Err }

// DelegationError says why the user's credentials could not be delegated
// although [WithDelegation] asked for it. It comes wrapped in a
// [*NegotiateError] from [ResponseError]; errors.Is(err,
// credentials.ErrNotForwardable) tells the commonest cause, a TGT that is
// not forwardable, whose message names the fix.
type DelegationError struct {
	Err error
}

func (e *DelegationError) Error() string {
	msg := "auth: cannot delegate credentials: " + e.Err.Error()
	if errors.Is(e.Err, credentials.ErrNotForwardable) {
		msg += " (get a forwardable TGT: kinit -f, or forwardable = true in the [libdefaults] of krb5.conf;" +
			" the KDC must also allow the principal forwardable tickets)"
	}
	return msg
}

func (e *DelegationError) Unwrap() error { return e.Err }

// ResponseError returns why the transport could not authenticate the
// request that produced resp (typically a *NegotiateError wrapping a
// credentials error), or nil when it did not fail.
func ResponseError(resp *http.Response) error {
	return stateOf(resp).err
}

type errorSlotKey struct{}

// errorSlot carries a handshake failure from inside RoundTrip to whoever
// holds the response: the response's Request is the clone we sent, and its
// context holds the slot.
type errorSlot struct {
	mu    sync.Mutex
	state exchangeState
}

// exchangeState is what RoundTrip leaves for the functions that read a
// response after the fact.
type exchangeState struct {
	err error
	// authenticated: the response verified the server (see
	// MutuallyAuthenticated in mutualpolicy.go).
	authenticated bool
	// sanitized: the transport replaced the response by its status (see
	// Sanitized in sanitize.go).
	sanitized bool
}

func (s *errorSlot) set(err error) {
	s.mu.Lock()
	s.state.err = err
	s.mu.Unlock()
}

// stateOf returns the state of the exchange that produced resp; the zero
// state for a response that did not come from a Transport.
func stateOf(resp *http.Response) exchangeState {
	if resp == nil || resp.Request == nil {
		return exchangeState{}
	}
	slot, _ := resp.Request.Context().Value(errorSlotKey{}).(*errorSlot)
	if slot == nil {
		return exchangeState{}
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	return slot.state
}

// updateState changes, under its lock, the state of the exchange whose
// context is ctx.
func updateState(ctx context.Context, change func(*exchangeState)) {
	if slot, _ := ctx.Value(errorSlotKey{}).(*errorSlot); slot != nil {
		slot.mu.Lock()
		change(&slot.state)
		slot.mu.Unlock()
	}
}

func withErrorSlot(ctx context.Context) (context.Context, *errorSlot) {
	slot := &errorSlot{}
	return context.WithValue(ctx, errorSlotKey{}, slot), slot
}

// redactedURL drops user information and the query, which may carry
// secrets, from error messages.
func redactedURL(r *http.Request) string {
	u := *r.URL
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
