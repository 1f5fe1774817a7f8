package encryption

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// ErrTampered is matched by every [*TamperedError].
var ErrTampered = errors.New("encryption: message tampered with")

// TamperedError says an encrypted message failed verification: its
// checksum or header copy does not verify, it arrived out of sequence, or
// its plaintext length is not the Length it announced. The connection it
// came on cannot be trusted any more.
type TamperedError struct {
	Reason string
	Err    error // the gss error, nil for a length mismatch
}

func (e *TamperedError) Error() string {
	msg := "encryption: message tampered with: " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *TamperedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTampered) true.
func (e *TamperedError) Is(target error) bool { return target == ErrTampered }

// Session encrypts and decrypts the messages of one connection. Both
// directions count their sequence numbers from the context's initial
// ones, so a Session must see every message of its connection, in order.
// It is safe for concurrent use, but a connection carries one message at a
// time, and that is the order Encrypt and Decrypt must be called in.
type Session struct {
	sealer   *gss.Sealer
	protocol string
}

// NewSession returns a Session over an established context (the client's
// from [gss.Initiator.SecurityContext], the server's from the acceptor)
// for one of the Protocol constants.
func NewSession(ctx *gss.SecurityContext, protocol string) (*Session, error) {
	if !slices.Contains([]string{ProtocolSPNEGO, ProtocolKerberos}, protocol) {
		return nil, fmt.Errorf("encryption: unknown protocol %q", protocol)
	}
	s, err := gss.NewSealer(ctx)
	if err != nil {
		return nil, fmt.Errorf("encryption: %w", err)
	}
	return &Session{sealer: s, protocol: protocol}, nil
}

// Protocol returns the session's protocol string.
func (s *Session) Protocol() string { return s.protocol }

// Encrypt seals a SOAP envelope and returns the Content-Type and body to
// send.
func (s *Session) Encrypt(envelope []byte) (contentType string, body []byte, err error) {
	// The token is written straight into the frame: its header part is
	// Overhead bytes, and SealAppend needs the rotation count (at most
	// the overhead) spare.
	over := s.sealer.Overhead()
	b := make([]byte, 0, frameOverhead(s.protocol, len(envelope))+len(envelope)+2*over)
	b = appendFramePrefix(b, s.protocol, len(envelope), over)
	b, err = s.sealer.SealAppend(b, envelope)
	if err != nil {
		return "", nil, fmt.Errorf("encryption: %w", err)
	}
	return ContentType(s.protocol), append(b, frameSuffix...), nil
}

// Decrypt parses and opens an encrypted body and returns the SOAP
// envelope. Verification failures are *[TamperedError]; framing errors
// wrap [ErrMalformed], as does a protocol other than the session's.
func (s *Session) Decrypt(contentType string, body []byte) ([]byte, error) {
	m, err := Parse(contentType, body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(m.Protocol, s.protocol) {
		return nil, malformed("protocol %q on a %q session", m.Protocol, s.protocol)
	}
	pt, err := s.sealer.OpenParts(m.Header, m.Data)
	if err != nil {
		return nil, &TamperedError{Reason: "wrap token does not verify", Err: err}
	}
	if len(pt) != m.Length {
		return nil, &TamperedError{Reason: fmt.Sprintf("plaintext of %d bytes announced as %d", len(pt), m.Length)}
	}
	return pt, nil
}

// Overhead returns how many bytes encryption adds to an envelope of n
// bytes: the framing and the token's header part.
func (s *Session) Overhead(n int) int {
	return frameOverhead(s.protocol, n) + s.sealer.Overhead()
}
