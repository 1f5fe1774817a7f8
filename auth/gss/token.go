package gss

import (
	"bytes"
	"fmt"
)

// The token framing (GSS InitialContextToken, SPNEGO) is parsed and built by
// hand rather than with gofork asn1 or gokrb5's spnego package: the framing
// is a handful of TLVs, comparing mechanism OIDs as DER bytes is exact, and
// a parser that only slices within checked bounds cannot panic on hostile
// input. Kerberos messages inside the framing are left to gokrb5.

// DER-encoded mechanism OIDs, tag and length included.
var (
	// oidKRB5 is 1.2.840.113554.1.2.2, the Kerberos V5 GSS mechanism.
	oidKRB5 = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	// oidMSKRB5 is 1.2.840.48018.1.2.2, the OID early Windows put in
	// SPNEGO by mistake; Windows clients still list it first.
	oidMSKRB5 = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02}
	// oidSPNEGO is 1.3.6.1.5.5.2.
	oidSPNEGO = []byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
)

// isKRB5OID reports whether a DER OID names Kerberos (either OID).
func isKRB5OID(oid []byte) bool {
	return bytes.Equal(oid, oidKRB5) || bytes.Equal(oid, oidMSKRB5)
}

// Identifier octets used in the framing.
const (
	tagInteger     = 0x02
	tagEnumerated  = 0x0a
	tagOctetString = 0x04
	tagOID         = 0x06
	tagSequence    = 0x30
	tagGSSApp0     = 0x60 // [APPLICATION 0] constructed: InitialContextToken
	tagNegInit     = 0xa0 // [0] constructed: NegTokenInit choice
	tagNegResp     = 0xa1 // [1] constructed: NegTokenResp choice
)

// contextTag returns the identifier octet of a constructed [n] tag.
func contextTag(n int) byte { return 0xa0 | byte(n) }

// Kerberos GSS token IDs (RFC 1964 1.1, RFC 4121 4.1).
var (
	tokIDAPReq    = [2]byte{0x01, 0x00}
	tokIDAPRep    = [2]byte{0x02, 0x00}
	tokIDKRBError = [2]byte{0x03, 0x00}
)

// maxTokenLen bounds lengths accepted by the DER reader. HTTP headers cap
// real tokens far below this; the bound just keeps length arithmetic small.
const maxTokenLen = 1 << 24

// derElement is one DER TLV with a single-octet identifier.
type derElement struct {
	tag     byte
	content []byte
	full    []byte // identifier, length and content
}

// readDER reads one TLV from b. High tag numbers and the BER indefinite
// length are rejected: nothing in these tokens uses them.
func readDER(b []byte) (el derElement, rest []byte, err error) {
	if len(b) < 2 {
		return el, nil, malformed("DER element truncated")
	}
	tag := b[0]
	if tag&0x1f == 0x1f {
		return el, nil, malformed("DER high tag number not supported")
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		nb := n & 0x7f
		if nb == 0 || nb > 3 {
			return el, nil, malformed("DER length form not supported")
		}
		if len(b) < 2+nb {
			return el, nil, malformed("DER length truncated")
		}
		n = 0
		for _, c := range b[2 : 2+nb] {
			n = n<<8 | int(c)
		}
		hdr += nb
	}
	if n > maxTokenLen || n > len(b)-hdr {
		return el, nil, malformed("DER element longer than its container")
	}
	end := hdr + n
	return derElement{tag: tag, content: b[hdr:end], full: b[:end]}, b[end:], nil
}

// readOnlyDER reads a TLV that must fill b exactly and carry the given tag.
func readOnlyDER(b []byte, tag byte, what string) (derElement, error) {
	el, rest, err := readDER(b)
	if err != nil {
		return el, fmt.Errorf("%s: %w", what, err)
	}
	if el.tag != tag {
		return el, malformed("%s: tag 0x%02x, want 0x%02x", what, el.tag, tag)
	}
	if len(rest) != 0 {
		return el, malformed("%s: %d trailing bytes", what, len(rest))
	}
	return el, nil
}

// maxDERDepth bounds the nesting checkDER follows. Kerberos messages nest
// about a dozen levels; the bound keeps hostile input from recursing deep.
const maxDERDepth = 32

// checkDER verifies that b is exactly one DER element and that every
// constructed element inside is filled exactly by its children. gofork
// asn1, like Go's encoding/asn1 it was forked from, does not compare the
// length of an explicit tag with the element inside it, so without this
// check tampered lengths in unauthenticated framing would go unnoticed.
func checkDER(b []byte, what string) error {
	el, rest, err := readDER(b)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(rest) != 0 {
		return malformed("%s: %d trailing bytes", what, len(rest))
	}
	if err := checkConstructed(el, 0); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func checkConstructed(el derElement, depth int) error {
	if el.tag&0x20 == 0 {
		return nil
	}
	if depth > maxDERDepth {
		return malformed("DER nested deeper than %d", maxDERDepth)
	}
	for rest := el.content; len(rest) > 0; {
		var child derElement
		var err error
		if child, rest, err = readDER(rest); err != nil {
			return err
		}
		if err := checkConstructed(child, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// appendDER appends a TLV whose content is the concatenation of parts.
func appendDER(dst []byte, tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	dst = append(dst, tag)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

// der returns a fresh TLV.
func der(tag byte, parts ...[]byte) []byte { return appendDER(nil, tag, parts...) }

// wrapGSS frames inner in a GSS-API InitialContextToken (RFC 2743 3.1).
func wrapGSS(oid []byte, inner ...[]byte) []byte {
	return der(tagGSSApp0, append([][]byte{oid}, inner...)...)
}

// unwrapGSS splits an InitialContextToken into its mechanism OID (DER) and
// the mechanism-specific bytes.
func unwrapGSS(b []byte) (oid, inner []byte, err error) {
	app, err := readOnlyDER(b, tagGSSApp0, "GSS token")
	if err != nil {
		return nil, nil, err
	}
	o, rest, err := readDER(app.content)
	if err != nil {
		return nil, nil, fmt.Errorf("GSS token OID: %w", err)
	}
	if o.tag != tagOID {
		return nil, nil, malformed("GSS token does not start with an OID")
	}
	return o.full, rest, nil
}

// krb5Token is a Kerberos mechanism token: token ID and message.
type krb5Token struct {
	oid []byte // oidKRB5 or oidMSKRB5 as received
	id  [2]byte
	msg []byte // DER of the AP-REQ, AP-REP or KRB-ERROR
}

// marshalKRB5 frames a Kerberos message as an RFC 4121 token.
func marshalKRB5(id [2]byte, msg []byte) []byte {
	return wrapGSS(oidKRB5, id[:], msg)
}

// parseKRB5 decodes a framed Kerberos mechanism token.
func parseKRB5(b []byte) (krb5Token, error) {
	oid, inner, err := unwrapGSS(b)
	if err != nil {
		return krb5Token{}, err
	}
	if !isKRB5OID(oid) {
		return krb5Token{}, malformed("mechanism token OID is not Kerberos")
	}
	if len(inner) < 2 {
		return krb5Token{}, malformed("Kerberos token has no token ID")
	}
	return krb5Token{oid: oid, id: [2]byte{inner[0], inner[1]}, msg: inner[2:]}, nil
}

// SPNEGO negState values (RFC 4178 4.2.2).
const (
	negAcceptCompleted  = 0
	negAcceptIncomplete = 1
	negReject           = 2
	negRequestMIC       = 3
	negStateAbsent      = -1
)

// negTokenInit holds the fields of an RFC 4178 NegTokenInit we use.
type negTokenInit struct {
	mechTypes [][]byte // DER OIDs in the initiator's order of preference
	mechToken []byte   // optimistic token for mechTypes[0], nil if absent
}

// negTokenResp holds the fields of an RFC 4178 NegTokenResp.
type negTokenResp struct {
	negState      int    // negStateAbsent when the field is missing
	supportedMech []byte // DER OID, nil if absent
	responseToken []byte // nil if absent
	mechListMIC   []byte // nil if absent
}

// marshalNegTokenInit builds the initiator's SPNEGO token: GSS framing with
// the SPNEGO OID around the NegTokenInit choice. reqFlags is omitted
// (RFC 4178 says it SHOULD be) and so is mechListMIC.
func marshalNegTokenInit(mechTypes [][]byte, mechToken []byte) []byte {
	seq := der(tagSequence,
		der(contextTag(0), der(tagSequence, mechTypes...)),
		der(contextTag(2), der(tagOctetString, mechToken)),
	)
	return wrapGSS(oidSPNEGO, der(tagNegInit, seq))
}

// marshalNegTokenResp builds a NegTokenResp. Unlike the initial token it
// has no GSS framing (RFC 4178 4.2). Nil fields are omitted.
func marshalNegTokenResp(negState int, supportedMech, responseToken []byte) []byte {
	fields := [][]byte{der(contextTag(0), der(tagEnumerated, []byte{byte(negState)}))}
	if supportedMech != nil {
		fields = append(fields, der(contextTag(1), supportedMech))
	}
	if responseToken != nil {
		fields = append(fields, der(contextTag(2), der(tagOctetString, responseToken)))
	}
	return der(tagNegResp, der(tagSequence, fields...))
}

// sequenceFields walks the explicitly tagged fields of a SEQUENCE and
// calls f with each field number and its inner TLV. Fields must appear in
// increasing order, each at most once, as DER requires.
func sequenceFields(b []byte, what string, f func(n int, inner derElement) error) error {
	seq, err := readOnlyDER(b, tagSequence, what)
	if err != nil {
		return err
	}
	last := -1
	for rest := seq.content; len(rest) > 0; {
		var field derElement
		field, rest, err = readDER(rest)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n := int(field.tag & 0x1f)
		if field.tag&0xe0 != 0xa0 || n <= last {
			return malformed("%s: unexpected field tag 0x%02x", what, field.tag)
		}
		last = n
		inner, err := readOnlyDER(field.content, field.content0(), what)
		if err != nil {
			return err
		}
		if err := f(n, inner); err != nil {
			return err
		}
	}
	return nil
}

// content0 returns the first content octet (the inner tag of an explicit
// field) or 0 for empty content, which readOnlyDER then rejects.
func (e derElement) content0() byte {
	if len(e.content) == 0 {
		return 0
	}
	return e.content[0]
}

// expectTag checks the inner tag of an explicit field.
func expectTag(el derElement, tag byte, what string) error {
	if el.tag != tag {
		return malformed("%s: tag 0x%02x, want 0x%02x", what, el.tag, tag)
	}
	return nil
}

// parseNegTokenInit decodes the acceptor's input when it carries the SPNEGO
// OID. inner is what follows the OID inside the GSS framing.
func parseNegTokenInit(inner []byte) (negTokenInit, error) {
	var t negTokenInit
	choice, err := readOnlyDER(inner, tagNegInit, "NegTokenInit")
	if err != nil {
		return t, err
	}
	err = sequenceFields(choice.content, "NegTokenInit", func(n int, el derElement) error {
		switch n {
		case 0:
			if err := expectTag(el, tagSequence, "mechTypes"); err != nil {
				return err
			}
			for rest := el.content; len(rest) > 0; {
				var oid derElement
				var err error
				oid, rest, err = readDER(rest)
				if err != nil {
					return fmt.Errorf("mechTypes: %w", err)
				}
				if err := expectTag(oid, tagOID, "mechTypes"); err != nil {
					return err
				}
				t.mechTypes = append(t.mechTypes, oid.full)
			}
		case 2:
			if err := expectTag(el, tagOctetString, "mechToken"); err != nil {
				return err
			}
			t.mechToken = el.content
		}
		// reqFlags [1] and mechListMIC [3] carry nothing we act on.
		return nil
	})
	if err != nil {
		return t, err
	}
	if len(t.mechTypes) == 0 {
		return t, malformed("NegTokenInit without mechTypes")
	}
	return t, nil
}

// parseNegTokenResp decodes a NegTokenResp. For leniency it also accepts
// one wrapped in GSS framing with the SPNEGO OID, which some servers send.
func parseNegTokenResp(b []byte) (negTokenResp, error) {
	t := negTokenResp{negState: negStateAbsent}
	if len(b) > 0 && b[0] == tagGSSApp0 {
		oid, inner, err := unwrapGSS(b)
		if err != nil {
			return t, err
		}
		if !bytes.Equal(oid, oidSPNEGO) {
			return t, malformed("reply token OID is neither SPNEGO nor Kerberos")
		}
		b = inner
	}
	choice, err := readOnlyDER(b, tagNegResp, "NegTokenResp")
	if err != nil {
		return t, err
	}
	err = sequenceFields(choice.content, "NegTokenResp", func(n int, el derElement) error {
		switch n {
		case 0:
			if err := expectTag(el, tagEnumerated, "negState"); err != nil {
				return err
			}
			if len(el.content) != 1 || el.content[0] > negRequestMIC {
				return malformed("negState out of range")
			}
			t.negState = int(el.content[0])
		case 1:
			if err := expectTag(el, tagOID, "supportedMech"); err != nil {
				return err
			}
			t.supportedMech = el.full
		case 2:
			if err := expectTag(el, tagOctetString, "responseToken"); err != nil {
				return err
			}
			t.responseToken = el.content
		case 3:
			if err := expectTag(el, tagOctetString, "mechListMIC"); err != nil {
				return err
			}
			t.mechListMIC = el.content
		}
		return nil
	})
	return t, err
}
