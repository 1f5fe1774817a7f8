package gss

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/krbcrypto"
)

// keySize is the protocol key length of an enctype. gokrb5's
// GetKeyByteSize reports 24 for aes256-cts-hmac-sha384-192, whose keys are
// 32 bytes (RFC 8009 5), while its own encrypt/decrypt code insists on 32.
func keySize(et etype.EType) int {
	if et.GetETypeID() == etypeID.AES256_CTS_HMAC_SHA384_192 {
		return 32
	}
	return et.GetKeyByteSize()
}

// checkKey returns the enctype of key after checking that gokrb5 supports
// it and that the key has the right length: gokrb5's ciphers do not all
// check, and a key taken from a peer's message is untrusted input.
func checkKey(key types.EncryptionKey) (etype.EType, error) {
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	if len(key.KeyValue) != keySize(et) {
		return nil, fmt.Errorf("enctype %d key of %d bytes, want %d", key.KeyType, len(key.KeyValue), keySize(et))
	}
	return et, nil
}

// newKey returns a random key of the given enctype.
func newKey(keyType int32) (types.EncryptionKey, error) {
	et, err := crypto.GetEtype(keyType)
	if err != nil {
		return types.EncryptionKey{}, err
	}
	k := types.EncryptionKey{KeyType: keyType, KeyValue: make([]byte, keySize(et))}
	if _, err := rand.Read(k.KeyValue); err != nil {
		return types.EncryptionKey{}, err
	}
	return k, nil
}

// randomSeq returns an initial sequence number. It is kept below 2^30 as
// MIT and gokrb5 do, which keeps peers that encode it as a signed 32-bit
// integer away from the sign bit for the lifetime of the context.
func randomSeq() (uint64, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return uint64(binary.BigEndian.Uint32(b[:]) & 0x3fffffff), nil
}

// seqFromASN1 maps an ASN.1 sequence number to its unsigned 32-bit value.
// Some implementations (old Heimdal, Windows) encode values above 2^31 as
// negative integers; the 32 low bits are the intended value either way.
func seqFromASN1(v int64) uint64 { return uint64(uint32(v)) }

// cryptoKey is a key with, for the AES enctypes, its derived keys: each
// usage's are computed on first use and kept for the key's lifetime.
type cryptoKey struct {
	raw  types.EncryptionKey
	fast *krbcrypto.Key // nil: an enctype left to gokrb5
}

// newCryptoKey checks key (supported enctype, right length: a key taken
// from a peer's message is untrusted input) and returns its cryptoKey.
func newCryptoKey(key types.EncryptionKey) (*cryptoKey, error) {
	if krbcrypto.Supported(key.KeyType) {
		k, err := krbcrypto.NewKey(key.KeyType, key.KeyValue)
		if err != nil {
			return nil, err
		}
		return &cryptoKey{raw: key, fast: k}, nil
	}
	if _, err := checkKey(key); err != nil {
		return nil, err
	}
	return &cryptoKey{raw: key}, nil
}

// decrypt decrypts ed with the checks gokrb5 leaves out: the enctypes
// must agree, and the ciphertext must hold at least a confounder and a
// MAC (gokrb5 slices without checking and panics on shorter input). The
// AES enctypes go through krbcrypto; the others (RC4-HMAC, DES3) through
// gokrb5, with recover as the last line of defence, see guard.
func (c *cryptoKey) decrypt(ed types.EncryptedData, usage uint32) (pt []byte, err error) {
	if ed.EType != c.raw.KeyType {
		return nil, fmt.Errorf("encrypted with enctype %d, key has enctype %d", ed.EType, c.raw.KeyType)
	}
	if c.fast != nil {
		u := c.fast.Usage(usage)
		if len(ed.Cipher) < u.Overhead() {
			return nil, fmt.Errorf("ciphertext of %d bytes, shorter than %d", len(ed.Cipher), u.Overhead())
		}
		if pt, err = u.Decrypt(ed.Cipher); err != nil {
			return nil, errors.New("integrity verification failed")
		}
		return pt, nil
	}
	et, err := checkKey(c.raw)
	if err != nil {
		return nil, err
	}
	if minLen := et.GetConfounderByteSize() + et.GetHMACBitLength()/8; len(ed.Cipher) < minLen {
		return nil, fmt.Errorf("ciphertext of %d bytes, shorter than %d", len(ed.Cipher), minLen)
	}
	defer func() {
		if r := recover(); r != nil {
			pt, err = nil, fmt.Errorf("decryption panic: %v", r)
		}
	}()
	return et.DecryptMessage(c.raw.KeyValue, ed.Cipher, usage)
}

// encrypt returns the EncryptedData of plaintext.
func (c *cryptoKey) encrypt(usage uint32, plaintext []byte) (types.EncryptedData, error) {
	if c.fast == nil {
		return crypto.GetEncryptedData(plaintext, c.raw, usage, 0)
	}
	u := c.fast.Usage(usage)
	ct, err := u.Encrypt(make([]byte, 0, len(plaintext)+u.Overhead()), plaintext)
	if err != nil {
		return types.EncryptedData{}, err
	}
	return types.EncryptedData{EType: c.raw.KeyType, Cipher: ct}, nil
}

// encryptAppend appends the cipher text of plaintext to dst.
func (c *cryptoKey) encryptAppend(dst []byte, usage uint32, plaintext []byte) ([]byte, error) {
	if c.fast == nil {
		ed, err := crypto.GetEncryptedData(plaintext, c.raw, usage, 0)
		if err != nil {
			return dst, err
		}
		return append(dst, ed.Cipher...), nil
	}
	return c.fast.Usage(usage).Encrypt(dst, plaintext)
}

// decrypt decrypts ed under key once; see cryptoKey.decrypt.
func decrypt(ed types.EncryptedData, key types.EncryptionKey, usage uint32) ([]byte, error) {
	if ed.EType != key.KeyType {
		return nil, fmt.Errorf("encrypted with enctype %d, key has enctype %d", ed.EType, key.KeyType)
	}
	c, err := newCryptoKey(key)
	if err != nil {
		return nil, err
	}
	return c.decrypt(ed, usage)
}

// The authenticator checksum of RFC 4121 4.1.1 (type 0x8003): all
// integers little-endian.
//
//	0..3   Lgth   16, the length of Bnd
//	4..19  Bnd    MD5 of the channel bindings, or zeros
//	20..23 Flags  context flags
//	24..25 DlgOpt 1, present only with delegation
//	26..27 Dlgth  length of Deleg
//	28..   Deleg  KRB-CRED
const (
	gssChecksumLen     = 24
	gssChecksumBndLen  = 16
	gssChecksumDlgOpt  = 1
	gssChecksumDlgHead = 4 // DlgOpt and Dlgth
)

// gssChecksum is the decoded 0x8003 checksum.
type gssChecksum struct {
	bnd   [gssChecksumBndLen]byte
	flags Flags
	deleg []byte // KRB-CRED, nil without delegation
}

// marshal encodes the checksum; deleg longer than 65535 bytes does not fit
// the 16-bit Dlgth and is refused.
func (c gssChecksum) marshal() ([]byte, error) {
	n := gssChecksumLen
	if c.deleg != nil {
		if len(c.deleg) > 0xffff {
			return nil, fmt.Errorf("gss: delegation of %d bytes exceeds the 65535 the checksum can carry", len(c.deleg))
		}
		n += gssChecksumDlgHead + len(c.deleg)
	}
	b := make([]byte, gssChecksumLen, n)
	binary.LittleEndian.PutUint32(b[0:], gssChecksumBndLen)
	copy(b[4:], c.bnd[:])
	binary.LittleEndian.PutUint32(b[20:], uint32(c.flags))
	if c.deleg != nil {
		b = binary.LittleEndian.AppendUint16(b, gssChecksumDlgOpt)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(c.deleg)))
		b = append(b, c.deleg...)
	}
	return b, nil
}

// parseGSSChecksum decodes a 0x8003 checksum. Like MIT it reads the
// delegation option only when the DELEG flag is set and ignores trailing
// bytes otherwise; a DELEG flag without a usable option is cleared, so the
// flag means "credentials were delegated".
func parseGSSChecksum(b []byte) (gssChecksum, error) {
	var c gssChecksum
	if len(b) < gssChecksumLen {
		return c, malformed("authenticator checksum of %d bytes, want at least %d", len(b), gssChecksumLen)
	}
	if l := binary.LittleEndian.Uint32(b[0:]); l != gssChecksumBndLen {
		return c, malformed("authenticator checksum Lgth %d, want %d", l, gssChecksumBndLen)
	}
	copy(c.bnd[:], b[4:20])
	c.flags = Flags(binary.LittleEndian.Uint32(b[20:]))
	if c.flags&FlagDelegate == 0 {
		return c, nil
	}
	rest := b[gssChecksumLen:]
	if len(rest) < gssChecksumDlgHead {
		c.flags &^= FlagDelegate
		return c, nil
	}
	opt := binary.LittleEndian.Uint16(rest[0:])
	n := int(binary.LittleEndian.Uint16(rest[2:]))
	rest = rest[gssChecksumDlgHead:]
	if opt != gssChecksumDlgOpt {
		return c, malformed("authenticator checksum DlgOpt %d, want %d", opt, gssChecksumDlgOpt)
	}
	if n > len(rest) {
		return c, malformed("authenticator checksum Dlgth %d exceeds the %d bytes left", n, len(rest))
	}
	if n == 0 {
		c.flags &^= FlagDelegate
		return c, nil
	}
	c.deleg = append([]byte(nil), rest[:n]...)
	return c, nil
}
