package sspi

import (
	"errors"
	"fmt"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// SECURITY_STATUS values (winerror.h) the package tells apart.
const (
	statusOK               uint32 = 0x00000000
	statusContinueNeeded   uint32 = 0x00090312
	statusInternalError    uint32 = 0x80090304
	statusTargetUnknown    uint32 = 0x80090303
	statusInvalidToken     uint32 = 0x80090308
	statusLogonDenied      uint32 = 0x8009030C
	statusNoCredentials    uint32 = 0x8009030E
	statusMessageAltered   uint32 = 0x8009030F
	statusOutOfSequence    uint32 = 0x80090310
	statusNoAuthority      uint32 = 0x80090311
	statusContextExpired   uint32 = 0x80090317
	statusWrongPrincipal   uint32 = 0x80090322
	statusTimeSkew         uint32 = 0x80090324
	statusBadBindings      uint32 = 0x80090346
	statusUnsupported      uint32 = 0x80090302
	statusBufferTooSmall   uint32 = 0x80090321
	statusCredentialsExp   uint32 = 0x80090328
	statusKDCUnreachable   uint32 = 0xC000005E // STATUS_NO_LOGON_SERVERS, as some calls report it
	statusIncompleteMsg    uint32 = 0x80090318
	statusSecPkgNotFound   uint32 = 0x80090305
	statusQOPNotSupported  uint32 = 0x8009030A
	statusInsufficientMem  uint32 = 0x80090300
	statusInvalidHandle    uint32 = 0x80090301
	statusUnknownCreds     uint32 = 0x8009030D
	statusDelegationPolicy uint32 = 0x8009035E
)

var statusNames = map[uint32]string{
	statusContinueNeeded:   "SEC_I_CONTINUE_NEEDED",
	statusInternalError:    "SEC_E_INTERNAL_ERROR",
	statusTargetUnknown:    "SEC_E_TARGET_UNKNOWN",
	statusInvalidToken:     "SEC_E_INVALID_TOKEN",
	statusLogonDenied:      "SEC_E_LOGON_DENIED",
	statusNoCredentials:    "SEC_E_NO_CREDENTIALS",
	statusMessageAltered:   "SEC_E_MESSAGE_ALTERED",
	statusOutOfSequence:    "SEC_E_OUT_OF_SEQUENCE",
	statusNoAuthority:      "SEC_E_NO_AUTHENTICATING_AUTHORITY",
	statusContextExpired:   "SEC_E_CONTEXT_EXPIRED",
	statusWrongPrincipal:   "SEC_E_WRONG_PRINCIPAL",
	statusTimeSkew:         "SEC_E_TIME_SKEW",
	statusBadBindings:      "SEC_E_BAD_BINDINGS",
	statusUnsupported:      "SEC_E_UNSUPPORTED_FUNCTION",
	statusBufferTooSmall:   "SEC_E_BUFFER_TOO_SMALL",
	statusCredentialsExp:   "SEC_E_CREDENTIALS_EXPIRED",
	statusKDCUnreachable:   "STATUS_NO_LOGON_SERVERS",
	statusIncompleteMsg:    "SEC_E_INCOMPLETE_MESSAGE",
	statusSecPkgNotFound:   "SEC_E_SECPKG_NOT_FOUND",
	statusQOPNotSupported:  "SEC_E_QOP_NOT_SUPPORTED",
	statusInsufficientMem:  "SEC_E_INSUFFICIENT_MEMORY",
	statusInvalidHandle:    "SEC_E_INVALID_HANDLE",
	statusUnknownCreds:     "SEC_E_UNKNOWN_CREDENTIALS",
	statusDelegationPolicy: "SEC_E_DELEGATION_POLICY",
}

// statusErrors maps statuses to the errors the pure-Go path reports for
// the same failure, so that callers test for one set of errors on every
// system: a KDC that does not know the service is
// credentials.ErrPrincipalUnknown on both (which is what makes the
// transport try the next service principal name), a tampered message
// gss.ErrIntegrity, and so on.
var statusErrors = map[uint32]error{
	statusTargetUnknown:   credentials.ErrPrincipalUnknown,
	statusNoCredentials:   credentials.ErrNoCredentials,
	statusUnknownCreds:    credentials.ErrNoCredentials,
	statusLogonDenied:     credentials.ErrNoCredentials,
	statusCredentialsExp:  credentials.ErrExpired,
	statusContextExpired:  credentials.ErrExpired,
	statusNoAuthority:     credentials.ErrKDCUnreachable,
	statusKDCUnreachable:  credentials.ErrKDCUnreachable,
	statusTimeSkew:        gss.ErrClockSkew,
	statusBadBindings:     gss.ErrBadBindings,
	statusMessageAltered:  gss.ErrIntegrity,
	statusOutOfSequence:   gss.ErrSequence,
	statusInvalidToken:    gss.ErrMalformedToken,
	statusUnsupported:     gss.ErrUnsupported,
	statusQOPNotSupported: gss.ErrUnsupported,
}

// Error is a failed SSPI call. It matches (errors.Is) the error the
// pure-Go path reports for the same condition, where there is one.
type Error struct {
	Op     string // the SSPI function, e.g. "InitializeSecurityContext"
	Status uint32 // its SECURITY_STATUS
}

func (e *Error) Error() string {
	name := statusNames[e.Status]
	if name == "" {
		name = "SECURITY_STATUS"
	}
	return fmt.Sprintf("sspi: %s: %s (%#08x)", e.Op, name, e.Status)
}

// Unwrap returns the portable error for the status, or nil.
func (e *Error) Unwrap() error { return statusErrors[e.Status] }

// errStatus returns nil for SEC_E_OK and an *Error otherwise.
func errStatus(op string, status uint32) error {
	if status == statusOK {
		return nil
	}
	return &Error{Op: op, Status: status}
}

// mutualFailure is the error for a reply token SSPI would not accept:
// the same gss.ErrMutualAuth the pure-Go initiator reports, with the
// SSPI status kept.
func mutualFailure(err error) error {
	if errors.Is(err, gss.ErrMutualAuth) {
		return err
	}
	return fmt.Errorf("%w: %w", gss.ErrMutualAuth, err)
}
