package kdc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
)

// Sentinel errors; package credentials re-exports them.
var (
	// ErrUnreachable: no KDC of the realm answered (refused, timed out,
	// none configured, or the context ended first).
	ErrUnreachable = errors.New("KDC unreachable")
	// ErrPrincipalUnknown: the KDC does not know the client or the service.
	ErrPrincipalUnknown = errors.New("principal unknown to the KDC")
	// ErrPreauthFailed: the password or key is wrong.
	ErrPreauthFailed = errors.New("pre-authentication failed")
	// ErrExpired: a ticket (or the TGT the KDC was shown) has expired.
	ErrExpired = errors.New("ticket expired")
	// ErrMalformed: a KDC reply (or other input) could not be parsed or
	// failed verification.
	ErrMalformed = errors.New("malformed data")
)

// Error is a KRB-ERROR reply from a KDC.
type Error struct {
	Code  int32  // RFC 4120 error code, e.g. 24
	Name  string // e.g. "KDC_ERR_PREAUTH_FAILED"
	Text  string // the KDC's e-text, often empty
	Realm string // realm of the KDC that answered
}

// NewError builds an Error from a code, filling Name from the IANA table.
func NewError(code int32, text, realm string) *Error {
	return &Error{Code: code, Name: codeName(code), Text: text, Realm: realm}
}

func codeName(code int32) string {
	// errorcode.Lookup gives "(24) KDC_ERR_PREAUTH_FAILED Pre-authentication ...".
	f := strings.Fields(errorcode.Lookup(code))
	if len(f) >= 2 && strings.HasPrefix(f[0], "(") {
		return f[1]
	}
	return fmt.Sprintf("KRB_ERROR_%d", code)
}

func (e *Error) Error() string {
	s := fmt.Sprintf("KDC error %s (%d)", e.Name, e.Code)
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is maps KDC error codes onto the package sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrPrincipalUnknown:
		return e.Code == errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN || e.Code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN
	case ErrPreauthFailed:
		return e.Code == errorcode.KDC_ERR_PREAUTH_FAILED
	case ErrExpired:
		return e.Code == errorcode.KRB_AP_ERR_TKT_EXPIRED
	}
	return false
}

// UnreachableError says why no KDC of a realm answered: one error per
// attempt, in order.
type UnreachableError struct {
	Realm string
	Errs  []error
}

func (e *UnreachableError) Error() string {
	if len(e.Errs) == 0 {
		return "KDC unreachable: no KDC known for realm " + e.Realm
	}
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "KDC unreachable: " + strings.Join(msgs, "; ")
}

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Unwrap exposes the attempts' errors, so that errors.Is(err,
// context.DeadlineExceeded) works when the context ended the attempts.
func (e *UnreachableError) Unwrap() []error { return e.Errs }

// wrapped gives err a sentinel identity while keeping err's message.
type wrapped struct {
	sentinel error
	msg      string
	err      error
}

func (w *wrapped) Error() string {
	if w.err == nil {
		return w.msg
	}
	if w.msg == "" {
		return w.err.Error()
	}
	return w.msg + ": " + w.err.Error()
}

func (w *wrapped) Is(target error) bool { return target == w.sentinel }
func (w *wrapped) Unwrap() error        { return w.err }

func malformed(msg string, err error) error {
	return &wrapped{sentinel: ErrMalformed, msg: msg, err: err}
}
