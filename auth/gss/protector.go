package gss

import "errors"

// Protector seals and opens the per-message tokens of an established
// context in the two parts WinRM frames them in: the header part (the
// token header and everything that precedes the encrypted data: 60 bytes
// for AES) and the encrypted data, as long as the plaintext. Each side
// numbers its tokens, so the messages of one connection go through one
// Protector in order.
//
// [*Sealer] is the pure-Go Protector, built from the context's keys. On
// Windows the logged-on user's SSPI context is another (module auth
// hands it out), whose keys stay inside Windows: it seals and opens with
// EncryptMessage and DecryptMessage.
type Protector interface {
	// SealParts encrypts one message.
	SealParts(plaintext []byte) (header, data []byte, err error)
	// OpenParts verifies and decrypts one message from the peer; a
	// tampered or out-of-sequence message fails with ErrIntegrity or
	// ErrSequence.
	OpenParts(header, data []byte) ([]byte, error)
}

var _ Protector = (*Sealer)(nil)

// SealParts is Seal returning the token in WinRM's two parts: the header
// part (Overhead bytes) and the data, as long as plaintext.
func (s *Sealer) SealParts(plaintext []byte) (header, data []byte, err error) {
	tok, err := s.Seal(plaintext)
	if err != nil {
		return nil, nil, err
	}
	cut := len(tok) - len(plaintext)
	return tok[:cut:cut], tok[cut:], nil
}

// ClientContext is the client side of one security context, whatever
// builds its tokens: [*Initiator] from a ticket, or on Windows the
// logged-on user's SSPI context (module auth chooses, and reports the
// established context's Protector through its ClientTrace). It is what a
// caller holds between sending the initial token and protecting messages.
type ClientContext interface {
	// Accept processes the acceptor's reply token (binary; empty for
	// none), as [Initiator.Accept] does; failures match the same errors
	// (ErrMutualAuth, ErrRejected, ...).
	Accept(reply []byte) error
	// Protector protects the messages of the established context; it
	// fails while the context is not complete.
	Protector() (Protector, error)
}

var _ ClientContext = (*Initiator)(nil)

// errIncomplete: a Protector was asked of a context that is not
// established.
var errIncomplete = errors.New("gss: the security context is not established")

// Protector returns a new [*Sealer] for the established context.
func (i *Initiator) Protector() (Protector, error) {
	ctx := i.SecurityContext()
	if ctx == nil {
		return nil, errIncomplete
	}
	return NewSealer(ctx)
}
