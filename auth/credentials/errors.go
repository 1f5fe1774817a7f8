package credentials

import (
	"errors"
	"strings"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// Sentinel errors, for errors.Is. Every error returned by this package
// that has one of these causes matches it.
var (
	// ErrNoCredentials: no credential cache, an empty cache, no cache for
	// the principal in a collection, or no key for the principal in a
	// keytab.
	ErrNoCredentials = kdc.ErrNoCredentials
	// ErrExpired: the TGT (or the ticket shown to the KDC) has expired;
	// run kinit again.
	ErrExpired = kdc.ErrExpired
	// ErrKDCUnreachable: no KDC answered (connection refused, timeout, none
	// configured, or the context ended).
	ErrKDCUnreachable = kdc.ErrUnreachable
	// ErrPrincipalUnknown: the KDC does not know the service principal
	// (KDC_ERR_S_PRINCIPAL_UNKNOWN) or the client (C_PRINCIPAL_UNKNOWN).
	ErrPrincipalUnknown = kdc.ErrPrincipalUnknown
	// ErrPreauthFailed: wrong password or key.
	ErrPreauthFailed = kdc.ErrPreauthFailed
	// ErrMalformed: a credential cache, keytab, principal name or KDC
	// reply could not be parsed, or the krb5.conf a source loaded itself
	// (the error then also matches krb5conf.ErrMalformed, as a bad
	// principal name matches ticket.ErrMalformedName).
	ErrMalformed = kdc.ErrMalformed
	// ErrUnsupportedCCache: a credential cache type other than FILE: and
	// DIR: (KEYRING:, KCM:, MEMORY:, API:, ...).
	ErrUnsupportedCCache = errors.New("unsupported credential cache type")
	// ErrNotForwardable: delegation needs a forwardable TGT (kinit -f, or
	// forwardable = true in krb5.conf, or WithForwardable(true)).
	ErrNotForwardable = errors.New("TGT is not forwardable")
)

// KDCError is a KRB-ERROR reply from a KDC: Code is the RFC 4120 error
// code, Name its symbolic name (for example "KDC_ERR_PREAUTH_FAILED"), Text
// the KDC's explanation if it sent one. errors.Is maps the codes onto the
// sentinels above.
type KDCError = kdc.Error

// Error is what this package's sources and loaders return: the operation,
// the client principal and service principal involved (when known), and
// the cause. Passwords and keys never appear in it.
type Error struct {
	Op        string // "service ticket", "login", "read credential cache", ...
	Principal string // client principal, e.g. "alice@EXAMPLE.TEST"
	SPN       string // service principal, e.g. "HTTP/web.example.test"
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("credentials: ")
	b.WriteString(e.Op)
	if e.SPN != "" {
		b.WriteString(" for ")
		b.WriteString(e.SPN)
	}
	if e.Principal != "" {
		b.WriteString(" (client ")
		b.WriteString(e.Principal)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// PrincipalMismatchError: a FILE: cache was asked for a principal other
// than the one it holds. It matches ErrNoCredentials.
type PrincipalMismatchError struct {
	Cache string // cache name
	Want  string // principal asked for
	Have  string // the cache's default principal
}

func (e *PrincipalMismatchError) Error() string {
	return "cache " + e.Cache + " holds credentials for " + e.Have + ", not " + e.Want
}

// Is makes errors.Is(err, ErrNoCredentials) true.
func (e *PrincipalMismatchError) Is(target error) bool { return target == ErrNoCredentials }

// sentinelError gives err (or msg) the identity of a sentinel while keeping
// its own message.
type sentinelError struct {
	sentinel error
	msg      string
	err      error
}

func (s *sentinelError) Error() string {
	switch {
	case s.err == nil:
		return s.msg
	case s.msg == "":
		return s.err.Error()
	}
	return s.msg + ": " + s.err.Error()
}

func (s *sentinelError) Is(target error) bool { return target == s.sentinel }
func (s *sentinelError) Unwrap() error        { return s.err }

func withSentinel(sentinel error, msg string, err error) error {
	return &sentinelError{sentinel: sentinel, msg: msg, err: err}
}
