package gss_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
)

var (
	rsaKey   = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k })
	ecdsaKey = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader); return k })
)

// selfSigned makes a certificate signed with alg.
func selfSigned(t *testing.T, alg x509.SignatureAlgorithm, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(1),
		Subject:            pkix.Name{CommonName: "SERVER2016"},
		NotBefore:          time.Now().Add(-time.Hour),
		NotAfter:           time.Now().Add(time.Hour),
		SignatureAlgorithm: alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("%v: %v", alg, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if cert.SignatureAlgorithm != alg {
		t.Fatalf("made %v, wanted %v", cert.SignatureAlgorithm, alg)
	}
	return cert
}

// checkEndPoint checks the prefix and that the hash is hash(cert.Raw).
func checkEndPoint(t *testing.T, cert *x509.Certificate, hash crypto.Hash) {
	t.Helper()
	got := gss.TLSServerEndPoint(cert)
	prefix := []byte("tls-server-end-point:")
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%q lacks the prefix", got)
	}
	h := hash.New()
	h.Write(cert.Raw)
	if want := h.Sum(prefix); !bytes.Equal(got, want) {
		t.Fatalf("%v: hash of %d bytes, want %v (%d bytes)", cert.SignatureAlgorithm, len(got)-len(prefix), hash, hash.Size())
	}
}

func TestTLSServerEndPoint(t *testing.T) {
	t.Parallel()
	_, ed25519Priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, c := range []struct {
		alg  x509.SignatureAlgorithm
		key  func() crypto.Signer
		hash crypto.Hash
	}{
		{x509.SHA1WithRSA, func() crypto.Signer { return rsaKey() }, crypto.SHA256},
		{x509.SHA256WithRSA, func() crypto.Signer { return rsaKey() }, crypto.SHA256},
		{x509.SHA384WithRSA, func() crypto.Signer { return rsaKey() }, crypto.SHA384},
		{x509.SHA512WithRSA, func() crypto.Signer { return rsaKey() }, crypto.SHA512},
		{x509.SHA256WithRSAPSS, func() crypto.Signer { return rsaKey() }, crypto.SHA256},
		{x509.SHA384WithRSAPSS, func() crypto.Signer { return rsaKey() }, crypto.SHA384},
		{x509.SHA512WithRSAPSS, func() crypto.Signer { return rsaKey() }, crypto.SHA512},
		{x509.ECDSAWithSHA1, func() crypto.Signer { return ecdsaKey() }, crypto.SHA256},
		{x509.ECDSAWithSHA256, func() crypto.Signer { return ecdsaKey() }, crypto.SHA256},
		{x509.ECDSAWithSHA384, func() crypto.Signer { return ecdsaKey() }, crypto.SHA384},
		{x509.ECDSAWithSHA512, func() crypto.Signer { return ecdsaKey() }, crypto.SHA512},
		{x509.PureEd25519, func() crypto.Signer { return ed25519Priv }, crypto.SHA256},
	} {
		t.Run(c.alg.String(), func(t *testing.T) {
			checkEndPoint(t, selfSigned(t, c.alg, c.key()), c.hash)
		})
	}
}

// TestTLSServerEndPointPatched covers signatures crypto/x509 will not
// create: the OID of a SHA-256 RSA certificate is patched (in the TBS and
// the outer signatureAlgorithm) to MD5, to SHA-224 and to an unknown OID.
// The signature no longer verifies, which does not matter here.
func TestTLSServerEndPointPatched(t *testing.T) {
	t.Parallel()
	base := selfSigned(t, x509.SHA256WithRSA, rsaKey())
	sha256WithRSA := []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}
	for _, c := range []struct {
		name    string
		lastArc byte
		alg     x509.SignatureAlgorithm
		hash    crypto.Hash
	}{
		{"md5WithRSA", 0x04, x509.MD5WithRSA, crypto.SHA256},
		{"sha224WithRSA", 0x0e, x509.UnknownSignatureAlgorithm, crypto.SHA224},
		{"unknown 1.2.840.113549.1.1.15", 0x0f, x509.UnknownSignatureAlgorithm, crypto.SHA256},
	} {
		t.Run(c.name, func(t *testing.T) {
			patched := bytes.Clone(base.Raw)
			oid := bytes.Clone(sha256WithRSA)
			oid[len(oid)-1] = c.lastArc
			if n := bytes.Count(patched, sha256WithRSA); n != 2 {
				t.Fatalf("OID found %d times", n)
			}
			patched = bytes.ReplaceAll(patched, sha256WithRSA, oid)
			cert, err := x509.ParseCertificate(patched)
			if err != nil {
				t.Fatal(err)
			}
			if cert.SignatureAlgorithm != c.alg {
				t.Fatalf("parsed as %v", cert.SignatureAlgorithm)
			}
			checkEndPoint(t, cert, c.hash)
		})
	}
}

// TestChannelBindingsMD5 checks the structure behind the RFC 4121 Bnd on
// the requests-kerberos test vector's shape: a 32-byte SHA-256 hash makes
// 53 bytes of application data and a 73-byte structure. MIT computing the
// same MD5 is proven by the interoperability tests.
func TestChannelBindingsMD5(t *testing.T) {
	t.Parallel()
	app := append([]byte("tls-server-end-point:"), bytes.Repeat([]byte{0x99}, sha256.Size)...)
	if len(app) != 53 {
		t.Fatalf("application data %d bytes", len(app))
	}
	var st []byte
	st = append(st, make([]byte, 16)...) // initiator and acceptor: type 0, no address
	st = binary.LittleEndian.AppendUint32(st, uint32(len(app)))
	st = append(st, app...)
	if len(st) != 73 {
		t.Fatalf("structure %d bytes", len(st))
	}
	if got, want := gss.ChannelBindingsMD5(app), md5.Sum(st); got != want {
		t.Fatalf("%x, want %x", got, want)
	}
	// Empty application data still has a structure (20 zero bytes):
	// bindings with no data are not the same as no bindings.
	if got := gss.ChannelBindingsMD5(nil); got == ([16]byte{}) || got != md5.Sum(make([]byte, 20)) {
		t.Fatalf("empty: %x", got)
	}
}
