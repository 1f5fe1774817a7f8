package gss

import (
	"slices"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The acceptor decodes every AP-REQ, ticket and authenticator it is sent:
// gofork's reflection-driven Unmarshal spent two thirds of the acceptor's
// allocations there. These decoders fill gokrb5's own structures, equal
// to what gokrb5's Unmarshal makes of the same bytes (the tests compare
// them on tickets from MIT's KDC and on fuzzed input), and are stricter
// than gofork: the string fields must be GeneralString, unknown fields and
// non-minimal integers are refused, and times must be
// YYYYMMDDHHMMSSZ, the only form RFC 4120 5.2.3 allows.

// maxFields is one more than the highest field number of the messages
// decoded here (EncTicketPart's authorization-data [10]).
const maxFields = 11

// derFields holds the [n] EXPLICIT fields of one SEQUENCE by number.
type derFields struct {
	el      [maxFields]derElement // the element inside each field
	present uint16
	what    string
}

// readFields reads b as [APPLICATION appTag] SEQUENCE, or as a plain
// SEQUENCE when appTag is negative. Fields must come in increasing order,
// each holding exactly one element. Bytes after the element are ignored
// when trailing is true (a decrypted plaintext, as gofork ignores them).
func readFields(b []byte, appTag int, what string, trailing bool) (derFields, error) {
	f := derFields{what: what}
	el, rest, err := readDER(b)
	if err != nil {
		return f, wrapMalformed(what, err)
	}
	if len(rest) != 0 && !trailing {
		return f, malformed("%s: %d trailing bytes", what, len(rest))
	}
	if appTag >= 0 {
		if el.tag != byte(0x60|appTag) {
			return f, malformed("%s: tag 0x%02x, want 0x%02x", what, el.tag, 0x60|appTag)
		}
		if el, err = readOnlyDER(el.content, tagSequence, what); err != nil {
			return f, err
		}
	} else if el.tag != tagSequence {
		return f, malformed("%s: tag 0x%02x, want a SEQUENCE", what, el.tag)
	}
	last := -1
	for rest := el.content; len(rest) > 0; {
		var field derElement
		if field, rest, err = readDER(rest); err != nil {
			return f, wrapMalformed(what, err)
		}
		n := int(field.tag & 0x1f)
		if field.tag&0xe0 != 0xa0 || n <= last || n >= maxFields {
			return f, malformed("%s: unexpected field tag 0x%02x", what, field.tag)
		}
		last = n
		if f.el[n], err = readOnlyDER(field.content, field.content0(), what); err != nil {
			return f, err
		}
		f.present |= 1 << n
	}
	return f, nil
}

func wrapMalformed(what string, err error) error { return malformed("%s: %v", what, err) }

func (f *derFields) has(n int) bool { return f.present&(1<<n) != 0 }

// need returns field n, which must be present.
func (f *derFields) need(n int) (derElement, error) {
	if !f.has(n) {
		return derElement{}, malformed("%s: field [%d] missing", f.what, n)
	}
	return f.el[n], nil
}

func (f *derFields) int(n, bits int) (int64, error) {
	el, err := f.need(n)
	if err != nil {
		return 0, err
	}
	return derInt(el, bits, f.what)
}

func (f *derFields) int32(n int) (int32, error) {
	v, err := f.int(n, 32)
	return int32(v), err
}

func (f *derFields) string(n int) (string, error) {
	return f.stringLike(n, "")
}

// stringLike is string returning like itself when the field spells it.
func (f *derFields) stringLike(n int, like string) (string, error) {
	el, err := f.need(n)
	if err != nil {
		return "", err
	}
	if el.tag != tagGeneralString {
		return "", malformed("%s: field [%d] is not a GeneralString", f.what, n)
	}
	if like != "" && string(el.content) == like {
		return like, nil
	}
	return string(el.content), nil
}

func (f *derFields) octets(n int) ([]byte, error) {
	el, err := f.need(n)
	if err != nil {
		return nil, err
	}
	if el.tag != tagOctetString {
		return nil, malformed("%s: field [%d] is not an OCTET STRING", f.what, n)
	}
	return slices.Clone(el.content), nil
}

func (f *derFields) time(n int) (time.Time, error) {
	el, err := f.need(n)
	if err != nil {
		return time.Time{}, err
	}
	return derTime(el, f.what)
}

// derInt decodes a minimal two's complement INTEGER that fits in bits.
func derInt(el derElement, bits int, what string) (int64, error) {
	b := el.content
	switch {
	case el.tag != tagInteger:
		return 0, malformed("%s: tag 0x%02x is not an INTEGER", what, el.tag)
	case len(b) == 0:
		return 0, malformed("%s: empty INTEGER", what)
	case len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0):
		return 0, malformed("%s: INTEGER not minimally encoded", what)
	case len(b) > 8:
		return 0, malformed("%s: INTEGER too large", what)
	}
	var v int64
	for _, c := range b {
		v = v<<8 | int64(c)
	}
	// Sign-extend from the encoded length.
	v <<= 64 - 8*uint(len(b))
	v >>= 64 - 8*uint(len(b))
	if bits < 64 && v != v<<(64-bits)>>(64-bits) {
		return 0, malformed("%s: INTEGER does not fit in %d bits", what, bits)
	}
	return v, nil
}

// derTime decodes a KerberosTime: GeneralizedTime YYYYMMDDHHMMSSZ.
func derTime(el derElement, what string) (time.Time, error) {
	b := el.content
	if el.tag != tagGeneralizedTime || len(b) != 15 || b[14] != 'Z' {
		return time.Time{}, malformed("%s: not a KerberosTime", what)
	}
	var d [6]int
	pos := 0
	for i, w := range [6]int{4, 2, 2, 2, 2, 2} {
		v := 0
		for _, c := range b[pos : pos+w] {
			if c < '0' || c > '9' {
				return time.Time{}, malformed("%s: not a KerberosTime", what)
			}
			v = v*10 + int(c-'0')
		}
		d[i] = v
		pos += w
	}
	t := time.Date(d[0], time.Month(d[1]), d[2], d[3], d[4], d[5], 0, time.UTC)
	if t.Year() != d[0] || int(t.Month()) != d[1] || t.Day() != d[2] || t.Hour() != d[3] || t.Minute() != d[4] || t.Second() != d[5] {
		return time.Time{}, malformed("%s: not a valid time", what)
	}
	return t, nil
}

// derBitString decodes a BIT STRING with its unused bits zero.
func derBitString(el derElement, what string) (asn1.BitString, error) {
	b := el.content
	if el.tag != tagBitString || len(b) == 0 {
		return asn1.BitString{}, malformed("%s: not a BIT STRING", what)
	}
	pad := int(b[0])
	if pad > 7 || len(b) == 1 && pad > 0 || b[len(b)-1]&(1<<pad-1) != 0 {
		return asn1.BitString{}, malformed("%s: invalid BIT STRING padding", what)
	}
	return asn1.BitString{Bytes: slices.Clone(b[1:]), BitLength: (len(b)-1)*8 - pad}, nil
}

// derSequenceOf calls f on each element of a SEQUENCE OF; n is the count.
func derSequenceOf(el derElement, what string, f func(i int, e derElement) error) (n int, err error) {
	if el.tag != tagSequence {
		return 0, malformed("%s: not a SEQUENCE OF", what)
	}
	for rest := el.content; len(rest) > 0; n++ {
		var e derElement
		if e, rest, err = readDER(rest); err != nil {
			return 0, wrapMalformed(what, err)
		}
		if f != nil {
			if err := f(n, e); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func derPrincipalName(el derElement) (types.PrincipalName, error) {
	return derPrincipalNameLike(el, nil)
}

// derPrincipalNameLike is derPrincipalName sharing like's components
// when the name spells them (the authenticator's client, which must be
// the ticket's), instead of allocating copies.
func derPrincipalNameLike(el derElement, like []string) (types.PrincipalName, error) {
	var pn types.PrincipalName
	f, err := readFields(el.full, -1, "PrincipalName", false)
	if err != nil {
		return pn, err
	}
	if pn.NameType, err = f.int32(0); err != nil {
		return pn, err
	}
	names, err := f.need(1)
	if err != nil {
		return pn, err
	}
	n, err := derSequenceOf(names, "PrincipalName", nil)
	if err != nil {
		return pn, err
	}
	if n > 0 && n == len(like) {
		same := true
		_, err = derSequenceOf(names, "PrincipalName", func(i int, e derElement) error {
			if e.tag != tagGeneralString {
				return malformed("PrincipalName: name component is not a GeneralString")
			}
			same = same && string(e.content) == like[i]
			return nil
		})
		if err != nil {
			return pn, err
		}
		if same {
			pn.NameString = like
			return pn, nil
		}
	}
	pn.NameString = make([]string, n)
	_, err = derSequenceOf(names, "PrincipalName", func(i int, e derElement) error {
		if e.tag != tagGeneralString {
			return malformed("PrincipalName: name component is not a GeneralString")
		}
		pn.NameString[i] = string(e.content)
		return nil
	})
	return pn, err
}

// derTypeAndOctets decodes the SEQUENCE { [0] Int32, [1] OCTET STRING }
// that EncryptionKey, Checksum, HostAddress and AuthorizationData entries
// share.
func derTypeAndOctets(el derElement, what string) (int32, []byte, error) {
	f, err := readFields(el.full, -1, what, false)
	if err != nil {
		return 0, nil, err
	}
	t, err := f.int32(0)
	if err != nil {
		return 0, nil, err
	}
	v, err := f.octets(1)
	return t, v, err
}

func derEncryptedData(el derElement) (types.EncryptedData, error) {
	var ed types.EncryptedData
	f, err := readFields(el.full, -1, "EncryptedData", false)
	if err != nil {
		return ed, err
	}
	if ed.EType, err = f.int32(0); err != nil {
		return ed, err
	}
	if f.has(1) {
		kvno, err := f.int(1, 64)
		if err != nil {
			return ed, err
		}
		ed.KVNO = int(kvno)
	}
	ed.Cipher, err = f.octets(2)
	return ed, err
}

func derEncryptionKey(el derElement) (types.EncryptionKey, error) {
	t, v, err := derTypeAndOctets(el, "EncryptionKey")
	return types.EncryptionKey{KeyType: t, KeyValue: v}, err
}

func derAuthorizationData(el derElement) (types.AuthorizationData, error) {
	n, err := derSequenceOf(el, "AuthorizationData", nil)
	if err != nil {
		return nil, err
	}
	ad := make(types.AuthorizationData, n)
	_, err = derSequenceOf(el, "AuthorizationData", func(i int, e derElement) error {
		ad[i].ADType, ad[i].ADData, err = derTypeAndOctets(e, "AuthorizationData")
		return err
	})
	return ad, err
}

func derHostAddresses(el derElement) (types.HostAddresses, error) {
	n, err := derSequenceOf(el, "HostAddresses", nil)
	if err != nil {
		return nil, err
	}
	ha := make(types.HostAddresses, n)
	_, err = derSequenceOf(el, "HostAddresses", func(i int, e derElement) error {
		ha[i].AddrType, ha[i].Address, err = derTypeAndOctets(e, "HostAddress")
		return err
	})
	return ha, err
}

// parseTicket decodes Ticket ::= [APPLICATION 1] SEQUENCE.
func parseTicket(el derElement) (messages.Ticket, error) {
	var t messages.Ticket
	f, err := readFields(el.full, asnAppTag.Ticket, "Ticket", false)
	if err != nil {
		return t, err
	}
	vno, err := f.int(0, 64)
	if err != nil {
		return t, err
	}
	t.TktVNO = int(vno)
	if t.Realm, err = f.string(1); err != nil {
		return t, err
	}
	sname, err := f.need(2)
	if err != nil {
		return t, err
	}
	if t.SName, err = derPrincipalName(sname); err != nil {
		return t, err
	}
	ep, err := f.need(3)
	if err != nil {
		return t, err
	}
	t.EncPart, err = derEncryptedData(ep)
	return t, err
}

// parseAPReq decodes AP-REQ ::= [APPLICATION 14] SEQUENCE, as
// messages.APReq.Unmarshal does (the msg-type must be KRB_AP_REQ).
func parseAPReq(msg []byte) (messages.APReq, error) {
	r, tkt, err := parseAPReqTicket(msg)
	if err == nil {
		r.Ticket, err = parseTicket(tkt)
	}
	return r, err
}

// parseAPReqTicket is parseAPReq leaving the ticket undecoded: the
// acceptor looks its encoding up in its ticket cache first.
func parseAPReqTicket(msg []byte) (r messages.APReq, tkt derElement, err error) {
	f, err := readFields(msg, asnAppTag.APREQ, "AP-REQ", false)
	if err != nil {
		return r, tkt, err
	}
	pvno, err := f.int(0, 64)
	if err != nil {
		return r, tkt, err
	}
	mt, err := f.int(1, 64)
	if err != nil {
		return r, tkt, err
	}
	if mt != msgtype.KRB_AP_REQ {
		return r, tkt, malformed("AP-REQ msg-type %d", mt)
	}
	r.PVNO, r.MsgType = int(pvno), int(mt)
	opts, err := f.need(2)
	if err != nil {
		return r, tkt, err
	}
	if r.APOptions, err = derBitString(opts, "AP-REQ"); err != nil {
		return r, tkt, err
	}
	if tkt, err = f.need(3); err != nil {
		return r, tkt, err
	}
	auth, err := f.need(4)
	if err != nil {
		return r, tkt, err
	}
	r.EncryptedAuthenticator, err = derEncryptedData(auth)
	return r, tkt, err
}

// parseEncTicketPart decodes EncTicketPart ::= [APPLICATION 3] SEQUENCE
// from a decrypted ticket.
func parseEncTicketPart(pt []byte) (messages.EncTicketPart, error) {
	var e messages.EncTicketPart
	f, err := readFields(pt, asnAppTag.EncTicketPart, "EncTicketPart", true)
	if err != nil {
		return e, err
	}
	el, err := f.need(0)
	if err != nil {
		return e, err
	}
	if e.Flags, err = derBitString(el, "EncTicketPart"); err != nil {
		return e, err
	}
	if el, err = f.need(1); err != nil {
		return e, err
	}
	if e.Key, err = derEncryptionKey(el); err != nil {
		return e, err
	}
	if e.CRealm, err = f.string(2); err != nil {
		return e, err
	}
	if el, err = f.need(3); err != nil {
		return e, err
	}
	if e.CName, err = derPrincipalName(el); err != nil {
		return e, err
	}
	if el, err = f.need(4); err != nil {
		return e, err
	}
	if e.Transited.TRType, e.Transited.Contents, err = derTypeAndOctets(el, "TransitedEncoding"); err != nil {
		return e, err
	}
	if e.AuthTime, err = f.time(5); err != nil {
		return e, err
	}
	if f.has(6) {
		if e.StartTime, err = f.time(6); err != nil {
			return e, err
		}
	}
	if e.EndTime, err = f.time(7); err != nil {
		return e, err
	}
	if f.has(8) {
		if e.RenewTill, err = f.time(8); err != nil {
			return e, err
		}
	}
	if f.has(9) {
		if e.CAddr, err = derHostAddresses(f.el[9]); err != nil {
			return e, err
		}
	}
	if f.has(10) {
		if e.AuthorizationData, err = derAuthorizationData(f.el[10]); err != nil {
			return e, err
		}
	}
	return e, nil
}

// parseAuthenticator decodes Authenticator ::= [APPLICATION 2] SEQUENCE
// from a decrypted authenticator.
func parseAuthenticator(pt []byte) (types.Authenticator, error) {
	return parseAuthenticatorFor(pt, types.PrincipalName{}, "")
}

// parseAuthenticatorFor is parseAuthenticator sharing the strings of the
// ticket's client (cname, crealm) where the authenticator names the same:
// it must, and the acceptor checks it after.
func parseAuthenticatorFor(pt []byte, cname types.PrincipalName, crealm string) (types.Authenticator, error) {
	var a types.Authenticator
	f, err := readFields(pt, asnAppTag.Authenticator, "Authenticator", true)
	if err != nil {
		return a, err
	}
	vno, err := f.int(0, 64)
	if err != nil {
		return a, err
	}
	a.AVNO = int(vno)
	if a.CRealm, err = f.stringLike(1, crealm); err != nil {
		return a, err
	}
	el, err := f.need(2)
	if err != nil {
		return a, err
	}
	if a.CName, err = derPrincipalNameLike(el, cname.NameString); err != nil {
		return a, err
	}
	if f.has(3) {
		if a.Cksum.CksumType, a.Cksum.Checksum, err = derTypeAndOctets(f.el[3], "Checksum"); err != nil {
			return a, err
		}
	}
	cusec, err := f.int(4, 64)
	if err != nil {
		return a, err
	}
	a.Cusec = int(cusec)
	if a.CTime, err = f.time(5); err != nil {
		return a, err
	}
	if f.has(6) {
		if a.SubKey, err = derEncryptionKey(f.el[6]); err != nil {
			return a, err
		}
	}
	if f.has(7) {
		if a.SeqNumber, err = f.int(7, 64); err != nil {
			return a, err
		}
	}
	if f.has(8) {
		if a.AuthorizationData, err = derAuthorizationData(f.el[8]); err != nil {
			return a, err
		}
	}
	return a, nil
}

// parseAPRep decodes AP-REP ::= [APPLICATION 15] SEQUENCE.
func parseAPRep(msg []byte) (messages.APRep, error) {
	var r messages.APRep
	f, err := readFields(msg, asnAppTag.APREP, "AP-REP", false)
	if err != nil {
		return r, err
	}
	pvno, err := f.int(0, 64)
	if err != nil {
		return r, err
	}
	mt, err := f.int(1, 64)
	if err != nil {
		return r, err
	}
	r.PVNO, r.MsgType = int(pvno), int(mt)
	ep, err := f.need(2)
	if err != nil {
		return r, err
	}
	r.EncPart, err = derEncryptedData(ep)
	return r, err
}

// parseEncAPRepPart decodes EncAPRepPart ::= [APPLICATION 27] SEQUENCE
// from a decrypted AP-REP.
func parseEncAPRepPart(pt []byte) (messages.EncAPRepPart, error) {
	var e messages.EncAPRepPart
	f, err := readFields(pt, asnAppTag.EncAPRepPart, "EncAPRepPart", true)
	if err != nil {
		return e, err
	}
	if e.CTime, err = f.time(0); err != nil {
		return e, err
	}
	cusec, err := f.int(1, 64)
	if err != nil {
		return e, err
	}
	e.Cusec = int(cusec)
	if f.has(2) {
		if e.Subkey, err = derEncryptionKey(f.el[2]); err != nil {
			return e, err
		}
	}
	if f.has(3) {
		if e.SequenceNumber, err = f.int(3, 64); err != nil {
			return e, err
		}
	}
	return e, nil
}
