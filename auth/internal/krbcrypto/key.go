package krbcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
)

var (
	// ErrIntegrity: a ciphertext or checksum does not verify.
	ErrIntegrity = errors.New("krbcrypto: integrity check failed")
	// ErrShort: a ciphertext is shorter than a confounder and a MAC.
	ErrShort = errors.New("krbcrypto: ciphertext too short")
)

// Key is a protocol key. Its derived keys are computed once per usage and
// kept (see Usage); a Key is safe for concurrent use.
type Key struct {
	p    *profile
	base []byte
	// first is the first usage derived: a per-request session key's
	// usages live here and in a one-entry list, without a list of their
	// own to allocate for the first.
	first  atomic.Pointer[UsageKey]
	usages atomic.Pointer[[]*UsageKey] // copy-on-write list of the others, few entries
	mu     sync.Mutex                  // serializes additions to usages
	blk    cipher.Block                // AES over base (RFC 3962 DK); guarded by mu
}

// NewKey returns the Key for a protocol key of a supported enctype. The
// key bytes are copied.
func NewKey(etype int32, key []byte) (*Key, error) {
	p := profileOf(etype)
	if p == nil {
		return nil, fmt.Errorf("krbcrypto: enctype %d not supported", etype)
	}
	if len(key) != p.keyLen {
		return nil, fmt.Errorf("krbcrypto: enctype %d key of %d bytes, want %d", etype, len(key), p.keyLen)
	}
	return &Key{p: p, base: append([]byte(nil), key...)}, nil
}

// EType returns the key's enctype.
func (k *Key) EType() int32 { return k.p.etype }

// Usage returns the derived keys for a key usage, deriving them on first
// use.
func (k *Key) Usage(usage uint32) *UsageKey {
	if u := k.first.Load(); u != nil && u.usage == usage {
		return u
	}
	if l := k.usages.Load(); l != nil {
		for _, u := range *l {
			if u.usage == usage {
				return u
			}
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.first.Load()
	if f != nil && f.usage == usage {
		return f
	}
	var old []*UsageKey
	if l := k.usages.Load(); l != nil {
		old = *l
		for _, u := range old {
			if u.usage == usage {
				return u
			}
		}
	}
	u := k.derive(usage)
	if f == nil {
		k.first.Store(u)
		return u
	}
	l := append(append(make([]*UsageKey, 0, len(old)+1), old...), u)
	k.usages.Store(&l)
	return u
}

// derive computes Ke and Ki for a usage; Kc waits for the first checksum
// (see kcKey): an acceptor's per-request session key only encrypts and
// decrypts, and each derivation costs AES blocks or an HMAC.
func (k *Key) derive(usage uint32) *UsageKey {
	p := k.p
	u := &UsageKey{p: p, usage: usage, key: k}
	// kiBuf holds Ke until its cipher is made, then Ki.
	if p.rfc8009 {
		ke := kdfHMACSHA2(u.kiBuf[:0], p, k.base, usageLabel(usage, kindEncrypt), p.keLen)
		u.ke, _ = aes.NewCipher(ke)
		clear(ke)
		u.ki = kdfHMACSHA2(u.kiBuf[:0], p, k.base, usageLabel(usage, kindIntegrity), p.kiLen)
	} else {
		blk := k.baseBlock()
		ke := dk(u.kiBuf[:0], blk, usageConstant(usage, kindEncrypt), p.keLen)
		u.ke, _ = aes.NewCipher(ke)
		clear(ke)
		u.ki = dk(u.kiBuf[:0], blk, usageConstant(usage, kindIntegrity), p.kiLen)
	}
	return u
}

// baseBlock returns the AES cipher over the base key, made once: the
// derivations of every usage share it. The caller holds k.mu.
func (k *Key) baseBlock() cipher.Block {
	if k.blk == nil {
		k.blk, _ = aes.NewCipher(k.base) // length checked in NewKey
	}
	return k.blk
}

// kcKey returns Kc, derived on first use.
func (u *UsageKey) kcKey() []byte {
	u.kcOnce.Do(func() {
		k, p := u.key, u.p
		if p.rfc8009 {
			u.kc = kdfHMACSHA2(u.kcBuf[:0], p, k.base, usageLabel(u.usage, kindChecksum), p.kiLen)
			return
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		u.kc = dk(u.kcBuf[:0], k.baseBlock(), usageConstant(u.usage, kindChecksum), p.kiLen)
	})
	return u.kc
}

// maxDerived is the longest derived key: 32 bytes (AES-256 Ke, and Ki
// of aes256-cts-hmac-sha1-96).
const maxDerived = 32

// dk is RFC 3961 DK for AES: the folded constant encrypted, then the
// output block encrypted again, until n bytes are produced. They are
// appended to dst.
func dk(dst []byte, blk cipher.Block, folded [16]byte, n int) []byte {
	// Each block is encrypted where it lies in dst: a block on the stack
	// would escape through the cipher.Block interface.
	start := len(dst)
	for i := start; i-start < n; i += aes.BlockSize {
		if i == start {
			dst = append(dst, folded[:]...)
		} else {
			dst = append(dst, dst[i-aes.BlockSize:i]...)
		}
		blk.Encrypt(dst[i:i+aes.BlockSize], dst[i:i+aes.BlockSize])
	}
	return dst[:start+n]
}

func usageLabel(usage uint32, kind byte) []byte {
	c := constant(usage, kind)
	return c[:]
}

// kdfHMACSHA2 is KDF-HMAC-SHA2 of RFC 8009 3 (SP 800-108 counter mode with
// one iteration): HMAC(key, 00000001 | label | 00 | bits(n)) truncated to
// n bytes, appended to dst.
func kdfHMACSHA2(dst []byte, p *profile, key, label []byte, n int) []byte {
	m := hmac.New(p.hash, key)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 1)
	m.Write(b[:])
	m.Write(label)
	m.Write(b[:1]) // zero, written after the counter 00000001
	binary.BigEndian.PutUint32(b[:], uint32(n*8))
	m.Write(b[:])
	var sum [64]byte
	return append(dst, m.Sum(sum[:0])[:n]...)
}

// UsageKey is a key's derived keys for one usage: Ke as an AES cipher, Ki
// and Kc for the HMACs. It is safe for concurrent use.
type UsageKey struct {
	p      *profile
	usage  uint32
	key    *Key // for Kc, derived on first use
	ke     cipher.Block
	ki     []byte // in kiBuf
	kiBuf  [maxDerived]byte
	kcOnce sync.Once
	kc     []byte // set by kcOnce, in kcBuf
	kcBuf  [maxDerived]byte
	// spare is one idle state, so that a key used once or by one
	// goroutine at a time never touches pool: a sync.Pool's first use
	// allocates its per-P arrays under a process-wide lock, which an
	// acceptor's per-request session keys would pay on every request and
	// many sessions starting at once would queue on. pool takes the
	// overflow of concurrent users.
	spare  atomic.Pointer[state]
	pooled atomic.Bool // pool has been given a state
	pool   sync.Pool   // of *state
}

// state is the per-call scratch: CBC modes over Ke with a settable IV and
// an HMAC keyed with Ki, reset between uses.
type state struct {
	enc, dec cipher.BlockMode
	mac      hash.Hash
	sum      [64]byte
	b1, b2   [aes.BlockSize]byte
}

type ivSetter interface{ SetIV([]byte) }

var zeroIV [aes.BlockSize]byte

// newState makes the HMAC; the CBC modes are made on first use, since a
// key used once (an acceptor's per-request session key) needs only one.
func (u *UsageKey) newState() *state {
	return &state{mac: hmac.New(u.p.hash, u.ki)}
}

func (u *UsageKey) get() *state {
	s := u.spare.Swap(nil)
	if s == nil {
		if !u.pooled.Load() {
			return u.newState()
		}
		v := u.pool.Get()
		if v == nil {
			return u.newState()
		}
		s = v.(*state)
	}
	s.mac.Reset()
	return s
}

func (u *UsageKey) put(s *state) {
	if !u.spare.CompareAndSwap(nil, s) {
		u.pool.Put(s)
		u.pooled.Store(true)
	}
}

// resetIV starts a CBC mode over with IV 0. crypto/aes's modes have
// SetIV; a mode without it (another cipher package) is made anew.
func (u *UsageKey) resetIV(m *cipher.BlockMode, enc bool) {
	if s, ok := (*m).(ivSetter); ok {
		s.SetIV(zeroIV[:])
		return
	}
	if enc {
		*m = cipher.NewCBCEncrypter(u.ke, zeroIV[:])
	} else {
		*m = cipher.NewCBCDecrypter(u.ke, zeroIV[:])
	}
}

// EType returns the enctype.
func (u *UsageKey) EType() int32 { return u.p.etype }

// MACLen returns the length of the integrity checksum after the
// ciphertext: 12 for AES-SHA1, 16 and 24 for the RFC 8009 enctypes.
func (u *UsageKey) MACLen() int { return u.p.macLen }

// Overhead returns what encryption adds to a plaintext: the confounder
// and the MAC.
func (u *UsageKey) Overhead() int { return ConfounderLen + u.p.macLen }

// Encrypt appends the encryption of plaintext (confounder, AES-CTS
// ciphertext, MAC: the RFC 3961 cipher field) to dst and returns the
// result.
func (u *UsageKey) Encrypt(dst, plaintext []byte) ([]byte, error) {
	n := len(dst)
	dst = grow(dst, ConfounderLen+len(plaintext)+u.p.macLen)
	msg := dst[n : n+ConfounderLen+len(plaintext)]
	copy(msg[ConfounderLen:], plaintext)
	if err := u.EncryptInPlace(msg, dst[n+len(msg):]); err != nil {
		return dst[:n], err
	}
	return dst, nil
}

// EncryptInPlace encrypts msg, whose first ConfounderLen bytes it fills
// with a random confounder and whose rest is the plaintext, in place, and
// writes the MAC into mac (MACLen bytes).
func (u *UsageKey) EncryptInPlace(msg, mac []byte) error {
	if _, err := rand.Read(msg[:ConfounderLen]); err != nil {
		return fmt.Errorf("krbcrypto: confounder: %w", err)
	}
	u.seal(msg, mac)
	return nil
}

// seal encrypts msg (confounder included) in place and writes the MAC.
func (u *UsageKey) seal(msg, mac []byte) {
	s := u.get()
	defer u.put(s)
	if u.p.rfc8009 {
		u.ctsEncrypt(s, msg)
		// RFC 8009 5: the MAC covers the IV (zeros) and the ciphertext.
		s.mac.Write(zeroIV[:])
		s.mac.Write(msg)
	} else {
		// RFC 3961 5.3: the MAC covers the confounder and plaintext.
		s.mac.Write(msg)
		u.ctsEncrypt(s, msg)
	}
	copy(mac[:u.p.macLen], s.mac.Sum(s.sum[:0]))
}

// Decrypt decrypts an RFC 3961 cipher field and returns the plaintext in
// a new slice; ct is not modified.
func (u *UsageKey) Decrypt(ct []byte) ([]byte, error) {
	if len(ct) < u.Overhead() {
		return nil, ErrShort
	}
	buf := append([]byte(nil), ct...)
	return u.DecryptInPlace(buf)
}

// DecryptInPlace verifies and decrypts ct (confounder, ciphertext, MAC) in
// place and returns the plaintext, a subslice of ct. After an error the
// contents of ct are unspecified.
func (u *UsageKey) DecryptInPlace(ct []byte) ([]byte, error) {
	if len(ct) < u.Overhead() {
		return nil, ErrShort
	}
	body, mac := ct[:len(ct)-u.p.macLen], ct[len(ct)-u.p.macLen:]
	s := u.get()
	defer u.put(s)
	if u.p.rfc8009 {
		s.mac.Write(zeroIV[:])
		s.mac.Write(body)
		if subtle.ConstantTimeCompare(s.mac.Sum(s.sum[:0])[:u.p.macLen], mac) != 1 {
			return nil, ErrIntegrity
		}
		u.ctsDecrypt(s, body)
	} else {
		u.ctsDecrypt(s, body)
		s.mac.Write(body)
		if subtle.ConstantTimeCompare(s.mac.Sum(s.sum[:0])[:u.p.macLen], mac) != 1 {
			return nil, ErrIntegrity
		}
	}
	return body[ConfounderLen:], nil
}

// Checksum appends the keyed checksum of data (HMAC with Kc, truncated:
// RFC 3962 hmac-sha1-96-aes, RFC 8009 hmac-sha256-128/-sha384-192) to dst.
func (u *UsageKey) Checksum(dst, data []byte) []byte {
	m := hmac.New(u.p.hash, u.kcKey())
	m.Write(data)
	var sum [64]byte
	return append(dst, m.Sum(sum[:0])[:u.p.macLen]...)
}

// VerifyChecksum reports whether sum is the keyed checksum of data.
func (u *UsageKey) VerifyChecksum(data, sum []byte) bool {
	var b [64]byte
	return subtle.ConstantTimeCompare(u.Checksum(b[:0], data), sum) == 1
}

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
