package kdc

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MS-KKDCP (the Kerberos KDC proxy protocol) carries a KDC exchange in an
// HTTPS POST. Both directions hold one DER-encoded KDC-PROXY-MESSAGE
// (MS-KKDCP 2.2.2):
//
//	KDC-PROXY-MESSAGE ::= SEQUENCE {
//	    kerb-message   [0] OCTET STRING,
//	    target-domain  [1] KERB-REALM OPTIONAL,   -- GeneralString
//	    dclocator-hint [2] INTEGER OPTIONAL
//	}
//
// kerb-message is the Kerberos message exactly as it travels over TCP: a
// 4-byte big-endian length, then the message. Requests name the realm in
// target-domain; replies leave it out. The codec is written on cryptobyte
// (strict DER, bounds-checked reads) rather than gokrb5's reflection-based
// asn1, because both ends of this package parse untrusted bytes here: a
// proxy's HTTP body on the client side, anyone's POST on the server side.

// KKDCPContentType is the media type of KDC-PROXY-MESSAGE bodies.
const KKDCPContentType = "application/kerberos"

// MaxKKDCPMessage bounds a KDC-PROXY-MESSAGE this package encodes or
// accepts; it matches the largest TCP reply the client reads from a KDC.
const MaxKKDCPMessage = maxTCPReply + 64

// maxRealmLen bounds target-domain; realm names are DNS-like names.
const maxRealmLen = 255

// ProxyMessage is a decoded KDC-PROXY-MESSAGE.
type ProxyMessage struct {
	// Message is the Kerberos message without its TCP length prefix.
	Message []byte
	// Realm is target-domain: the realm whose KDC the request is for;
	// empty in replies.
	Realm string
	// DCLocatorHint is dclocator-hint (flags for Windows' DC locator);
	// HasHint says whether it was present.
	DCLocatorHint int32
	HasHint       bool
}

// EncodeProxyMessage encodes m as DER, adding the TCP length prefix to
// m.Message.
func EncodeProxyMessage(m ProxyMessage) ([]byte, error) {
	if len(m.Message) == 0 {
		return nil, errors.New("kkdcp: empty Kerberos message")
	}
	if len(m.Message) > maxTCPReply {
		return nil, fmt.Errorf("kkdcp: Kerberos message of %d bytes exceeds %d", len(m.Message), maxTCPReply)
	}
	if err := checkRealm(m.Realm); err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
				b.AddUint32(uint32(len(m.Message)))
				b.AddBytes(m.Message)
			})
		})
		if m.Realm != "" {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.GeneralString, func(b *cryptobyte.Builder) { b.AddBytes([]byte(m.Realm)) })
			})
		}
		if m.HasHint {
			b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(m.DCLocatorHint))
			})
		}
	})
	return b.Bytes()
}

// DecodeProxyMessage parses a KDC-PROXY-MESSAGE and checks the TCP length
// prefix of its kerb-message. Every failure is an ErrMalformed.
func DecodeProxyMessage(der []byte) (ProxyMessage, error) {
	var m ProxyMessage
	if len(der) > MaxKKDCPMessage {
		return m, malformed(fmt.Sprintf("KDC proxy message of %d bytes exceeds %d", len(der), MaxKKDCPMessage), nil)
	}
	in := cryptobyte.String(der)
	var seq, msgField, kerb cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return m, malformed("KDC proxy message is not one DER SEQUENCE", nil)
	}
	if !seq.ReadASN1(&msgField, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!msgField.ReadASN1(&kerb, cbasn1.OCTET_STRING) || !msgField.Empty() {
		return m, malformed("KDC proxy message lacks kerb-message [0] OCTET STRING", nil)
	}
	var realmField cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&realmField, &present, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return m, malformed("KDC proxy message has a malformed target-domain", nil)
	}
	if present {
		var realm cryptobyte.String
		if !realmField.ReadASN1(&realm, cbasn1.GeneralString) || !realmField.Empty() {
			return m, malformed("KDC proxy message target-domain is not a GeneralString", nil)
		}
		if len(realm) == 0 {
			return m, malformed("KDC proxy message target-domain is empty", nil)
		}
		if err := checkRealm(string(realm)); err != nil {
			return m, malformed("KDC proxy message target-domain", err)
		}
		m.Realm = string(realm)
	}
	var hintField cryptobyte.String
	if !seq.ReadOptionalASN1(&hintField, &m.HasHint, cbasn1.Tag(2).ContextSpecific().Constructed()) {
		return m, malformed("KDC proxy message has a malformed dclocator-hint", nil)
	}
	if m.HasHint {
		if !hintField.ReadASN1Integer(&m.DCLocatorHint) || !hintField.Empty() {
			return m, malformed("KDC proxy message dclocator-hint is not a 32-bit INTEGER", nil)
		}
	}
	if !seq.Empty() {
		return m, malformed("KDC proxy message has unknown fields", nil)
	}
	if len(kerb) < 4 {
		return m, malformed("KDC proxy kerb-message shorter than its length prefix", nil)
	}
	n := binary.BigEndian.Uint32(kerb[:4])
	if uint64(n) != uint64(len(kerb)-4) {
		return m, malformed(fmt.Sprintf("KDC proxy kerb-message length prefix says %d bytes, %d follow", n, len(kerb)-4), nil)
	}
	if n == 0 {
		return m, malformed("KDC proxy kerb-message is empty", nil)
	}
	m.Message = []byte(kerb[4:])
	return m, nil
}

// checkRealm accepts what can be a realm name: printable ASCII without
// spaces, at most maxRealmLen bytes. MIT and Windows accept no more, and
// the server logs and looks up this value.
func checkRealm(r string) error {
	if len(r) > maxRealmLen {
		return fmt.Errorf("realm name of %d bytes exceeds %d", len(r), maxRealmLen)
	}
	for i := 0; i < len(r); i++ {
		if r[i] <= ' ' || r[i] > '~' {
			return fmt.Errorf("realm name has byte %#x at %d", r[i], i)
		}
	}
	return nil
}
