package gss

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/krbhttp/krbhttp/auth/internal/krbcrypto"
)

// ErrSequence: a per-message token carries another sequence number than
// the one expected next (a replayed, dropped or reordered message).
var ErrSequence = errors.New("gss: per-message token out of sequence")

// RFC 4121 4.2.6.2 Wrap token header, 16 bytes:
//
//	0..1  TOK_ID   05 04
//	2     Flags    SentByAcceptor 0x01, Sealed 0x02, AcceptorSubkey 0x04
//	3     Filler   FF
//	4..5  EC       extra count, big-endian
//	6..7  RRC      right rotation count, big-endian
//	8..15 SND_SEQ  sender's sequence number, big-endian
const (
	wrapHeaderLen = 16

	wrapFlagSentByAcceptor = 0x01
	wrapFlagSealed         = 0x02
	wrapFlagAcceptorSubkey = 0x04

	wrapFiller = 0xff
)

var tokIDWrap = [2]byte{0x05, 0x04}

// RFC 4121 2: key usages of sealed Wrap tokens.
const (
	usageAcceptorSeal  = 22
	usageInitiatorSeal = 24
)

// wrapKey is the key protecting this side's tokens, or, for
// acceptorSubkey = the flag of a received token, the peer's.
func (c *SecurityContext) wrapKey(acceptorSubkey bool) (*krbcrypto.Key, error) {
	key := c.SessionKey
	switch {
	case acceptorSubkey:
		if len(c.AcceptorSubkey.KeyValue) == 0 {
			return nil, malformed("wrap token flagged AcceptorSubkey, but the context has no acceptor subkey")
		}
		key = c.AcceptorSubkey
	case len(c.InitiatorSubkey.KeyValue) != 0:
		key = c.InitiatorSubkey
	}
	if !krbcrypto.Supported(key.KeyType) {
		if _, err := checkKey(key); err != nil {
			return nil, fmt.Errorf("%w: wrap key: %v", ErrUnsupported, err)
		}
		// RC4-HMAC and the DES types use the RFC 1964 / RFC 4757 token
		// format, which WinRM only meets with RC4 session keys.
		return nil, fmt.Errorf("%w: wrap tokens for enctype %d", ErrUnsupported, key.KeyType)
	}
	k, err := krbcrypto.NewKey(key.KeyType, key.KeyValue)
	if err != nil {
		return nil, fmt.Errorf("%w: wrap key: %v", ErrUnsupported, err)
	}
	return k, nil
}

// sealUsage and openUsage are the key usages of the tokens this side
// sends and receives.
func (c *SecurityContext) sealUsage() uint32 {
	if c.Initiator {
		return usageInitiatorSeal
	}
	return usageAcceptorSeal
}

func (c *SecurityContext) openUsage() uint32 {
	if c.Initiator {
		return usageAcceptorSeal
	}
	return usageInitiatorSeal
}

// sealKey returns the derived keys of this side's tokens.
func (c *SecurityContext) sealKey() (*krbcrypto.UsageKey, error) {
	k, err := c.wrapKey(len(c.AcceptorSubkey.KeyValue) != 0)
	if err != nil {
		return nil, err
	}
	return k.Usage(c.sealUsage()), nil
}

// sendFlags are the flags of the tokens this side sends.
func (c *SecurityContext) sendFlags() byte {
	f := byte(wrapFlagSealed)
	if !c.Initiator {
		f |= wrapFlagSentByAcceptor
	}
	if len(c.AcceptorSubkey.KeyValue) != 0 {
		f |= wrapFlagAcceptorSubkey
	}
	return f
}

// WrapRRC is the right rotation count [SecurityContext.Wrap] puts in its
// tokens for a key whose checksum is checksumLen bytes long: 16 + the
// checksum length, 28 for the AES-SHA1 enctypes. It moves the encrypted
// header copy and the checksum to the front, so that the token splits into
// a fixed-size header and a part exactly as long as the plaintext: the
// layout of Windows' WinRM and of MIT's gss_wrap_iov.
func WrapRRC(checksumLen int) uint16 { return uint16(wrapHeaderLen + checksumLen) }

// Wrap seals plaintext into an RFC 4121 Wrap token with confidentiality,
// sequence number seq, EC 0 and RRC [WrapRRC] (28 for AES-SHA1): the layout
// Windows and MIT agree on. The token is keyed with the acceptor subkey if
// the context has one (and then flagged AcceptorSubkey), else the
// initiator subkey, else the session key, with key usage 24 from the
// initiator and 22 from the acceptor.
//
// The caller chooses seq; [Sealer] numbers tokens for a conversation.
// len(token) - len(plaintext) is the size of the part that precedes data
// as long as the plaintext (60 bytes for AES-SHA1).
func (c *SecurityContext) Wrap(plaintext []byte, seq uint64) ([]byte, error) {
	u, err := c.sealKey()
	if err != nil {
		return nil, err
	}
	rrc := WrapRRC(u.MACLen())
	return c.wrapWith(u, plaintext, seq, 0, rrc, int(rrc))
}

// wrap is Wrap with a chosen EC and RRC and a rotation by rotate bytes,
// RRC or RRC+EC (tests make the layouts of other peers with it).
func (c *SecurityContext) wrap(plaintext []byte, seq uint64, ec, rrc uint16, rotate int) ([]byte, error) {
	u, err := c.sealKey()
	if err != nil {
		return nil, err
	}
	return c.wrapWith(u, plaintext, seq, ec, rrc, rotate)
}

// wrapWith builds the token in one allocation.
func (c *SecurityContext) wrapWith(u *krbcrypto.UsageKey, plaintext []byte, seq uint64, ec, rrc uint16, rotate int) ([]byte, error) {
	n := len(plaintext) + int(ec) + wrapHeaderLen + u.Overhead()
	return c.appendWrap(make([]byte, 0, wrapHeaderLen+n+rotate%n), u, plaintext, seq, ec, rrc, rotate)
}

// appendWrap appends the token to dst: the plaintext, EC filler (zeros)
// and header copy are encrypted in place after room for the rotation, and
// the rotated-out tail is then copied to the front.
func (c *SecurityContext) appendWrap(dst []byte, u *krbcrypto.UsageKey, plaintext []byte, seq uint64, ec, rrc uint16, rotate int) ([]byte, error) {
	var hdr [wrapHeaderLen]byte
	copy(hdr[:], tokIDWrap[:])
	hdr[2] = c.sendFlags()
	hdr[3] = wrapFiller
	binary.BigEndian.PutUint16(hdr[4:], ec)
	// The encrypted copy of the header has RRC 0 (RFC 4121 4.2.4).
	binary.BigEndian.PutUint64(hdr[8:], seq)

	ctLen := len(plaintext) + int(ec) + wrapHeaderLen + u.Overhead()
	rotate %= ctLen
	start := len(dst)
	dst = slices.Grow(dst, wrapHeaderLen+rotate+ctLen)
	tok := dst[start : start+wrapHeaderLen+rotate+ctLen]
	ct := tok[wrapHeaderLen+rotate:]
	msg := ct[:ctLen-u.MACLen()]
	// Every byte of tok is written below but the EC filler's: clearing
	// only that spares a second pass over a large message (the confounder
	// and MAC come from EncryptInPlace, the front from the rotation).
	n := copy(msg[krbcrypto.ConfounderLen:], plaintext)
	clear(msg[krbcrypto.ConfounderLen+n : len(msg)-wrapHeaderLen])
	copy(msg[len(msg)-wrapHeaderLen:], hdr[:])
	if err := u.EncryptInPlace(msg, ct[len(msg):]); err != nil {
		return dst[:start], fmt.Errorf("gss: wrap: %w", err)
	}
	binary.BigEndian.PutUint16(hdr[6:], rrc)
	copy(tok, hdr[:])
	// Rotating right by rotate brings the last rotate bytes to the front.
	copy(tok[wrapHeaderLen:], ct[ctLen-rotate:])
	return dst[:start+wrapHeaderLen+ctLen], nil
}

// Unwrap verifies and decrypts a sealed Wrap token from the peer and
// returns its plaintext and sequence number; checking the sequence is the
// caller's job (see [Sealer]).
//
// Any EC and RRC are accepted. The payload is rotated back by RRC as RFC
// 4121 says; when that does not verify and EC is not 0, by RRC+EC as the
// MS-KILE text describes. The outer header must equal the encrypted copy
// but for RRC. Tokens without confidentiality, in the RFC 1964 format or
// flagged as sent by this side are refused.
func (c *SecurityContext) Unwrap(token []byte) ([]byte, uint64, error) {
	flags, seq, err := c.checkWrapHeader(token)
	if err != nil {
		return nil, 0, err
	}
	k, err := c.wrapKey(flags&wrapFlagAcceptorSubkey != 0)
	if err != nil {
		return nil, 0, err
	}
	pt, err := unwrapWith(k.Usage(c.openUsage()), token[:wrapHeaderLen], token[wrapHeaderLen:], nil)
	return pt, seq, err
}

// checkWrapHeader checks the outer header of a token from the peer and
// returns its flags and sequence number.
func (c *SecurityContext) checkWrapHeader(token []byte) (flags byte, seq uint64, err error) {
	if len(token) < wrapHeaderLen {
		return 0, 0, malformed("wrap token of %d bytes", len(token))
	}
	hdr := token[:wrapHeaderLen]
	if !bytes.Equal(hdr[:2], tokIDWrap[:]) {
		return 0, 0, malformed("token ID %x is not a wrap token", hdr[:2])
	}
	flags = hdr[2]
	switch {
	case flags&^(wrapFlagSentByAcceptor|wrapFlagSealed|wrapFlagAcceptorSubkey) != 0:
		return 0, 0, malformed("wrap token flags %#x", flags)
	case flags&wrapFlagSentByAcceptor == 0 && c.Initiator:
		return 0, 0, malformed("wrap token from the initiator received by the initiator")
	case flags&wrapFlagSentByAcceptor != 0 && !c.Initiator:
		return 0, 0, malformed("wrap token from the acceptor received by the acceptor")
	case flags&wrapFlagSealed == 0:
		return 0, 0, fmt.Errorf("%w: wrap token without confidentiality", ErrUnsupported)
	case hdr[3] != wrapFiller:
		return 0, 0, malformed("wrap token filler %#x", hdr[3])
	}
	return flags, binary.BigEndian.Uint64(hdr[8:]), nil
}

// unwrapWith verifies and decrypts a token whose header hdr has been
// checked and whose body is the concatenation of body1 and body2 (WinRM
// frames a token in two parts): one allocation for the un-rotated
// ciphertext, decrypted in place.
func unwrapWith(u *krbcrypto.UsageKey, hdr, body1, body2 []byte) ([]byte, error) {
	ec := int(binary.BigEndian.Uint16(hdr[4:]))
	rrc := int(binary.BigEndian.Uint16(hdr[6:]))
	bodyLen := len(body1) + len(body2)
	// The ciphertext holds a confounder, the EC filler, the header copy and
	// the checksum besides the plaintext.
	if minLen := u.Overhead() + ec + wrapHeaderLen; bodyLen < minLen {
		return nil, malformed("wrap token of %d bytes, EC %d needs at least %d", wrapHeaderLen+bodyLen, ec, wrapHeaderLen+minLen)
	}
	ct := make([]byte, bodyLen)
	copyRotatedLeft(ct, body1, body2, rrc)
	pt, err := u.DecryptInPlace(ct)
	if err != nil && ec != 0 {
		copyRotatedLeft(ct, body1, body2, rrc+ec)
		pt, err = u.DecryptInPlace(ct)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: wrap token: %v", ErrIntegrity, err)
	}
	if len(pt) < ec+wrapHeaderLen {
		return nil, fmt.Errorf("%w: wrap token decrypts to %d bytes, EC %d", ErrIntegrity, len(pt), ec)
	}
	inner := pt[len(pt)-wrapHeaderLen:]
	var want [wrapHeaderLen]byte
	copy(want[:], hdr)
	want[6], want[7] = 0, 0
	if subtle.ConstantTimeCompare(inner, want[:]) != 1 {
		return nil, fmt.Errorf("%w: wrap token header %x does not match its encrypted copy %x", ErrIntegrity, hdr, inner)
	}
	return pt[:len(pt)-ec-wrapHeaderLen], nil
}

// copyRotatedLeft sets dst to a|b rotated left by n bytes, undoing
// the right rotation of RFC 4121 4.2.5, without joining a and b first.
func copyRotatedLeft(dst, a, b []byte, n int) {
	l := len(a) + len(b)
	if l == 0 {
		return
	}
	off := n % l
	for len(dst) > 0 {
		src := b[max(off-len(a), 0):]
		if off < len(a) {
			src = a[off:]
		}
		k := copy(dst, src)
		dst = dst[k:]
		off = (off + k) % l
	}
}

// Sealer seals and opens the Wrap tokens of one conversation over an
// established context: Seal numbers outgoing tokens from this side's
// initial sequence number, Open insists on the peer's tokens arriving in
// order from the peer's initial sequence number, as a connection that
// carries one message at a time (WinRM over HTTP/1.1) delivers them.
//
// It is safe for concurrent use, but the order of concurrent Seals is the
// order in which they take the lock: callers that need wire order hold
// their own lock across sealing and sending.
type Sealer struct {
	ctx  *SecurityContext
	seal *krbcrypto.UsageKey
	// keys holds the keys of the peer's tokens, by their AcceptorSubkey
	// flag; nil where the context has no such key.
	keys [2]*krbcrypto.UsageKey

	mu      sync.Mutex
	sendSeq uint64 // guarded by mu: the next outgoing sequence number
	recvSeq uint64 // guarded by mu: the sequence number expected next
}

// NewSealer returns a Sealer for ctx, which it copies. It fails when the
// context's key cannot make wrap tokens. The derived keys of both
// directions are computed here, once for the conversation.
func NewSealer(ctx *SecurityContext) (*Sealer, error) {
	if ctx == nil {
		return nil, errors.New("gss: NewSealer: nil context")
	}
	c := ctx.clone()
	seal, err := c.sealKey()
	if err != nil {
		return nil, err
	}
	s := &Sealer{ctx: c, seal: seal, sendSeq: c.InitiatorSeq, recvSeq: c.AcceptorSeq}
	for i, flagged := range []bool{false, true} {
		if k, err := c.wrapKey(flagged); err == nil {
			s.keys[i] = k.Usage(c.openUsage())
		}
	}
	if !c.Initiator {
		s.sendSeq, s.recvSeq = c.AcceptorSeq, c.InitiatorSeq
	}
	return s, nil
}

// Seal wraps plaintext (see [SecurityContext.Wrap]) with the next
// sequence number.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	return s.SealAppend(make([]byte, 0, len(plaintext)+s.Overhead()+int(WrapRRC(s.seal.MACLen()))), plaintext)
}

// SealAppend is Seal appending the token to dst, so that a caller can
// write it straight into its framing. dst needs Overhead plus the RRC
// (28 for AES-SHA1) bytes of spare capacity besides the plaintext's to be
// used without reallocation.
func (s *Sealer) SealAppend(dst, plaintext []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rrc := WrapRRC(s.seal.MACLen())
	dst, err := s.ctx.appendWrap(dst, s.seal, plaintext, s.sendSeq, 0, rrc, int(rrc))
	if err != nil {
		return dst, err
	}
	s.sendSeq++
	return dst, nil
}

// Open unwraps a token from the peer (see [SecurityContext.Unwrap]) and
// checks that it carries the sequence number expected next; a token that
// does not is refused with [ErrSequence] and the expectation stays.
func (s *Sealer) Open(token []byte) ([]byte, error) {
	return s.OpenParts(token, nil)
}

// OpenParts is Open for a token that arrives split in two, header|data,
// as WinRM frames it; the parts are not joined first.
func (s *Sealer) OpenParts(header, data []byte) ([]byte, error) {
	if len(header) < wrapHeaderLen {
		header, data = append(slices.Clip(header), data...), nil
	}
	pt, seq, err := s.open(header, data)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq != s.recvSeq {
		return nil, fmt.Errorf("%w: sequence number %d, expected %d", ErrSequence, seq, s.recvSeq)
	}
	s.recvSeq++
	return pt, nil
}

// open verifies and decrypts a token with the cached keys; the sequence
// number is Open's business, so the decryption runs outside the lock.
func (s *Sealer) open(header, data []byte) ([]byte, uint64, error) {
	flags, seq, err := s.ctx.checkWrapHeader(header)
	if err != nil {
		return nil, 0, err
	}
	u := s.keys[0]
	if flags&wrapFlagAcceptorSubkey != 0 {
		u = s.keys[1]
	}
	if u == nil {
		// The context has no key for the flag: wrapKey says why.
		_, err := s.ctx.wrapKey(flags&wrapFlagAcceptorSubkey != 0)
		return nil, 0, err
	}
	pt, err := unwrapWith(u, header[:wrapHeaderLen], header[wrapHeaderLen:], data)
	return pt, seq, err
}

// Overhead returns how many bytes a sealed token adds to its plaintext:
// 60 for AES-SHA1.
func (s *Sealer) Overhead() int {
	return wrapHeaderLen + s.seal.Overhead() + wrapHeaderLen
}
