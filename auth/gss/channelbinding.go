package gss

import (
	"crypto"
	"crypto/md5"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"

	// Register the hashes TLSServerEndPoint may pick.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// tlsServerEndPointPrefix is the RFC 5929 channel-binding type prefix.
const tlsServerEndPointPrefix = "tls-server-end-point:"

// TLSServerEndPoint returns the RFC 5929 "tls-server-end-point" channel
// binding application data for the server certificate cert:
// "tls-server-end-point:" followed by the hash of the DER certificate.
//
// The hash is the one the certificate's signature uses, except that MD5
// and SHA-1 are replaced by SHA-256 (RFC 5929 4.1). Signatures without a
// separate hash (Ed25519, Ed448) and unknown algorithms also get SHA-256,
// as pypsrp and Windows do; RFC 5929 leaves them undefined.
func TLSServerEndPoint(cert *x509.Certificate) []byte {
	h := endPointHash(cert.SignatureAlgorithm, signatureOID(cert.Raw)).New()
	h.Write(cert.Raw)
	return h.Sum([]byte(tlsServerEndPointPrefix))
}

// SHA-224 signature OIDs, which crypto/x509 reports as unknown.
var (
	oidSHA224WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidDSAWithSHA224   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 1}
)

// endPointHash picks the RFC 5929 hash. oid is the certificate's
// signatureAlgorithm OID; it is consulted only for what crypto/x509 does
// not name (SHA-224).
func endPointHash(alg x509.SignatureAlgorithm, oid asn1.ObjectIdentifier) crypto.Hash {
	switch alg {
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		return crypto.SHA384
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		return crypto.SHA512
	case x509.UnknownSignatureAlgorithm:
		if oid.Equal(oidSHA224WithRSA) || oid.Equal(oidECDSAWithSHA224) || oid.Equal(oidDSAWithSHA224) {
			return crypto.SHA224
		}
	}
	// MD5, SHA-1, SHA-256, Ed25519 and unknown algorithms.
	return crypto.SHA256
}

// signatureOID extracts the outer signatureAlgorithm OID of a DER
// certificate, or nil if it cannot be found.
func signatureOID(raw []byte) asn1.ObjectIdentifier {
	var cert struct {
		TBS       asn1.RawValue
		Algorithm struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		Signature asn1.BitString
	}
	if _, err := asn1.Unmarshal(raw, &cert); err != nil {
		return nil
	}
	return cert.Algorithm.Algorithm
}

// channelBindingsStruct lays out gss_channel_bindings_struct the way
// Kerberos hashes it (RFC 4121 4.1.1.2, MIT kg_checksum_channel_bindings):
// initiator address type and address, acceptor address type and address,
// application data; every length and type a little-endian uint32. HTTP
// uses no addresses (type 0 GSS_C_AF_UNSPEC, length 0).
func channelBindingsStruct(applicationData []byte) []byte {
	b := make([]byte, 16, 20+len(applicationData))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(applicationData)))
	return append(b, applicationData...)
}

// ChannelBindingsMD5 returns the Bnd value of the authenticator checksum
// for the given channel-binding application data: the MD5 of the GSS
// channel-bindings structure with no addresses. Use [TLSServerEndPoint] to
// obtain the application data for HTTPS.
func ChannelBindingsMD5(applicationData []byte) [16]byte {
	return md5.Sum(channelBindingsStruct(applicationData))
}

// hasBindings reports whether a Bnd value carries bindings: an initiator
// without channel bindings sends 16 zero bytes.
func hasBindings(bnd [16]byte) bool { return bnd != [16]byte{} }
