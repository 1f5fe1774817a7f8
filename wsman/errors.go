package wsman

import (
	"errors"
	"fmt"
	"strings"

	"github.com/krbhttp/krbhttp/wsman/encryption"
)

// FaultCode is the Code of a WSManFault: a Windows error number.
type FaultCode uint32

// Fault codes a shell client meets.
const (
	// FaultOperationTimeout: no output within OperationTimeout on Receive.
	// Receive and Run treat it as "poll again", never as an error.
	FaultOperationTimeout FaultCode = 2150858793
	// FaultShellNotFound: unknown ShellId (w:InvalidSelectors).
	FaultShellNotFound FaultCode = 2150858843
	// FaultMaxShells: the user has MaxShellsPerUser shells open.
	FaultMaxShells FaultCode = 2150859173
	// FaultMaxOperations: the user has MaxConcurrentOperationsPerUser
	// operations running.
	FaultMaxOperations FaultCode = 2150859174
	// FaultEnvelopeTooLarge: a request exceeds the server's
	// MaxEnvelopeSize (0x80338111); it comes as HTTP 413.
	FaultEnvelopeTooLarge FaultCode = 0x80338111
)

// Fault is a SOAP fault from the server, with the WS-Management detail.
// Use errors.As to get it from the errors of this package.
type Fault struct {
	Code       FaultCode // the WSManFault Code; 0 when the fault has none
	SOAPCode   string    // s:Sender or s:Receiver
	Subcode    string    // e.g. w:InvalidSelectors
	Reason     string    // s:Reason text
	Message    string    // f:Message text
	Machine    string    // the WSManFault Machine
	Action     string    // the action of the request that failed
	StatusCode int       // the HTTP status it came with, usually 500
}

func (f *Fault) Error() string {
	msg := fmt.Sprintf("wsman: %s fault %d", shortAction(f.Action), f.Code)
	if f.Subcode != "" {
		msg += " (" + f.Subcode + ")"
	}
	text := f.Message
	if text == "" {
		text = f.Reason
	}
	if text != "" {
		msg += ": " + text
	}
	return msg
}

// IsFault reports whether err is (or wraps) a [*Fault] with code.
func IsFault(err error, code FaultCode) bool {
	var f *Fault
	return errors.As(err, &f) && f.Code == code
}

// ErrEnvelopeTooLarge is matched by an [*HTTPError] with status 413: the
// request exceeded the server's MaxEnvelopeSize.
var ErrEnvelopeTooLarge = errors.New("wsman: request exceeds the server's MaxEnvelopeSize")

// HTTPError is an HTTP response that carries no SOAP message: a 401 the
// authentication could not answer, 413 for an oversized request, a proxy's
// error page, a plaintext reply the server sent instead of SOAP.
type HTTPError struct {
	StatusCode int
	Status     string
	Action     string // the action of the request
	// Body is the start of the response body, for diagnosis; empty on an
	// encrypted connection, where unencrypted bytes cannot be trusted.
	Body string
	// Err is why authentication failed for a 401, when the transport
	// says (auth.ResponseError), else nil.
	Err error
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("wsman: %s: HTTP %s", shortAction(e.Action), e.Status)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

func (e *HTTPError) Unwrap() error { return e.Err }

// Is makes a 413 match [ErrEnvelopeTooLarge].
func (e *HTTPError) Is(target error) bool {
	return target == ErrEnvelopeTooLarge && e.StatusCode == 413
}

// TransportError is a failure to exchange a message: connection, TLS,
// Kerberos (no ticket: an *auth.NegotiateError), mutual authentication
// (*auth.MutualAuthenticationError), a response too large or not
// SOAP, a decryption failure (*TamperedError). Err says which; errors.As
// reaches it through Unwrap.
type TransportError struct {
	Action string
	URL    string // the endpoint, without user information or query
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("wsman: %s %s: %v", shortAction(e.Action), e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// TamperedError is an encrypted message that failed verification (see
// package encryption); ErrTampered matches it.
type TamperedError = encryption.TamperedError

// ErrTampered is matched by every [TamperedError].
var ErrTampered = encryption.ErrTampered

// shortAction is the last path element of an action URI: "Receive".
func shortAction(action string) string {
	if action == "" {
		return "request"
	}
	return action[strings.LastIndexByte(action, '/')+1:]
}
