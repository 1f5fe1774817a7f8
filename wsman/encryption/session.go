package encryption

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

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
	protector gss.Protector
	sealer    *gss.Sealer // the protector when it is one: sealed straight into the frame
	protocol  string
	headerLen atomic.Int64 // another protector's last header part, for Overhead
}

// NewSession returns a Session over an established context (the client's
// from [gss.Initiator.SecurityContext], the server's from the acceptor)
// for one of the Protocol constants.
func NewSession(ctx *gss.SecurityContext, protocol string) (*Session, error) {
	if err := checkProtocol(protocol); err != nil {
		return nil, err
	}
	s, err := gss.NewSealer(ctx)
	if err != nil {
		return nil, fmt.Errorf("encryption: %w", err)
	}
	return &Session{protector: s, sealer: s, protocol: protocol}, nil
}

// NewSessionWith returns a Session whose messages p seals and opens: a
// context whose keys are out of reach, such as Windows' SSPI context for
// the logged-on user (EncryptMessage and DecryptMessage).
func NewSessionWith(p gss.Protector, protocol string) (*Session, error) {
	if err := checkProtocol(protocol); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("encryption: NewSessionWith: nil Protector")
	}
	s := &Session{protector: p, protocol: protocol}
	s.sealer, _ = p.(*gss.Sealer)
	return s, nil
}

func checkProtocol(protocol string) error {
	if !slices.Contains([]string{ProtocolSPNEGO, ProtocolKerberos}, protocol) {
		return fmt.Errorf("encryption: unknown protocol %q", protocol)
	}
	return nil
}

// Protocol returns the session's protocol string.
func (s *Session) Protocol() string { return s.protocol }

// Encrypt seals a SOAP envelope and returns the Content-Type and body to
// send.
func (s *Session) Encrypt(envelope []byte) (contentType string, body []byte, err error) {
	if s.sealer == nil {
		header, data, err := s.protector.SealParts(envelope)
		if err != nil {
			return "", nil, fmt.Errorf("encryption: %w", err)
		}
		s.headerLen.Store(int64(len(header)))
		return ContentType(s.protocol), Frame(&Message{Protocol: s.protocol, Length: len(envelope), Header: header, Data: data}), nil
	}
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
	pt, err := s.protector.OpenParts(m.Header, m.Data)
	if err != nil {
		return nil, &TamperedError{Reason: "wrap token does not verify", Err: err}
	}
	if len(pt) != m.Length {
		return nil, &TamperedError{Reason: fmt.Sprintf("plaintext of %d bytes announced as %d", len(pt), m.Length)}
	}
	return pt, nil
}

// Overhead returns how many bytes encryption adds to an envelope of n
// bytes: the framing and the token's header part. For a Session made by
// NewSessionWith the header part is known once a message was encrypted
// (60 bytes for AES); before, it counts as 0.
func (s *Session) Overhead(n int) int {
	if s.sealer == nil {
		return frameOverhead(s.protocol, n) + int(s.headerLen.Load())
	}
	return frameOverhead(s.protocol, n) + s.sealer.Overhead()
}
