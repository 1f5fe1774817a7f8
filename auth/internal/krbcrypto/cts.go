package krbcrypto

import "crypto/aes"

// AES in CBC mode with ciphertext stealing and IV 0, as RFC 3962 5 and RFC
// 8009 5 use it (CBC-CS3: the last two blocks always swapped): msg, at
// least one block long (the confounder guarantees it), is transformed in
// place.

func (u *UsageKey) ctsEncrypt(s *state, msg []byte) {
	if len(msg) == aes.BlockSize {
		u.ke.Encrypt(msg, msg)
		return
	}
	// full: the blocks before the last, possibly partial, one.
	full := (len(msg) - 1) / aes.BlockSize * aes.BlockSize
	tail := len(msg) - full
	u.resetIV(&s.enc, true)
	s.enc.CryptBlocks(msg[:full], msg[:full])
	// The scratch blocks live in s: a local array passed to the
	// cipher.Block interface would escape to the heap.
	prev, last := &s.b1, &s.b2
	copy(prev[:], msg[full-aes.BlockSize:full])
	clear(last[:])
	copy(last[:], msg[full:]) // zero padded
	for i := range last {
		last[i] ^= prev[i]
	}
	u.ke.Encrypt(last[:], last[:])
	copy(msg[full-aes.BlockSize:full], last[:])
	copy(msg[full:], prev[:tail])
}

func (u *UsageKey) ctsDecrypt(s *state, msg []byte) {
	if len(msg) == aes.BlockSize {
		u.ke.Decrypt(msg, msg)
		return
	}
	full := (len(msg) - 1) / aes.BlockSize * aes.BlockSize
	tail := len(msg) - full
	// The block before the tail holds E(Pn ^ Cn-1); its decryption is
	// Pn ^ Cn-1 padded, and its bytes past the tail complete Cn-1.
	d, cPrev := &s.b1, &s.b2
	u.ke.Decrypt(d[:], msg[full-aes.BlockSize:full])
	copy(cPrev[:], msg[full:])
	copy(cPrev[tail:], d[tail:])
	for i := range tail {
		msg[full+i] = d[i] ^ cPrev[i]
	}
	copy(msg[full-aes.BlockSize:full], cPrev[:])
	u.resetIV(&s.dec, false)
	s.dec.CryptBlocks(msg[:full], msg[:full])
}
