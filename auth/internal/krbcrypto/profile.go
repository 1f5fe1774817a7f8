package krbcrypto

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
)

// profile describes one enctype.
type profile struct {
	etype   int32
	keyLen  int              // protocol key bytes
	hash    func() hash.Hash // HMAC hash of Ki and Kc
	macLen  int              // truncated HMAC bytes
	keLen   int              // Ke bytes
	kiLen   int              // Ki and Kc bytes
	rfc8009 bool             // KDF-HMAC-SHA2 and encrypt-then-MAC; else RFC 3961 DK and MAC-then-encrypt
}

var profiles = [...]profile{
	{etype: etypeID.AES128_CTS_HMAC_SHA1_96, keyLen: 16, hash: sha1.New, macLen: 12, keLen: 16, kiLen: 16},
	{etype: etypeID.AES256_CTS_HMAC_SHA1_96, keyLen: 32, hash: sha1.New, macLen: 12, keLen: 32, kiLen: 32},
	{etype: etypeID.AES128_CTS_HMAC_SHA256_128, keyLen: 16, hash: sha256.New, macLen: 16, keLen: 16, kiLen: 16, rfc8009: true},
	{etype: etypeID.AES256_CTS_HMAC_SHA384_192, keyLen: 32, hash: sha512.New384, macLen: 24, keLen: 32, kiLen: 24, rfc8009: true},
}

func profileOf(etype int32) *profile {
	for i := range profiles {
		if profiles[i].etype == etype {
			return &profiles[i]
		}
	}
	return nil
}

// Supported reports whether etype is one of the enctypes this package
// implements.
func Supported(etype int32) bool { return profileOf(etype) != nil }

// KeyLen returns the protocol key length of a supported enctype, 0 for
// others.
func KeyLen(etype int32) int {
	if p := profileOf(etype); p != nil {
		return p.keyLen
	}
	return 0
}

// ConfounderLen is the confounder length of every supported enctype (one
// AES block).
const ConfounderLen = 16

// Derivation constant kinds (RFC 3961 5.3): the last octet of the
// well-known constant usage | kind.
const (
	kindChecksum  = 0x99 // Kc
	kindEncrypt   = 0xaa // Ke
	kindIntegrity = 0x55 // Ki
)

func constant(usage uint32, kind byte) [5]byte {
	var c [5]byte
	binary.BigEndian.PutUint32(c[:], usage)
	c[4] = kind
	return c
}

// foldedConstants holds the 128-bit n-fold of the constants of the usages
// below 64 (every usage Kerberos and GSS-API assign), folded once.
var foldedConstants = sync.OnceValue(func() *[64][3][16]byte {
	var t [64][3][16]byte
	for u := range t {
		for k, kind := range []byte{kindChecksum, kindEncrypt, kindIntegrity} {
			c := constant(uint32(u), kind)
			copy(t[u][k][:], nfold(c[:], 16))
		}
	}
	return &t
})

// usageConstant returns n-fold(usage | kind, 128).
func usageConstant(usage uint32, kind byte) [16]byte {
	if usage < 64 {
		k := 0
		switch kind {
		case kindEncrypt:
			k = 1
		case kindIntegrity:
			k = 2
		}
		return foldedConstants()[usage][k]
	}
	c := constant(usage, kind)
	return [16]byte(nfold(c[:], 16))
}
