package gss

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"
	"weak"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// preparedTicket is what every AP-REQ made with one ticket shares: the
// ticket's DER, the client fields of the authenticator, and the session
// key with its derived keys (usage 11 for the authenticator, 12 for the
// AP-REP), so that a token costs one authenticator's encoding and
// encryption.
type preparedTicket struct {
	// identity of the ticket it was made from, checked on every use so
	// that a Ticket changed after its first use is prepared again.
	cipher     *byte
	cipherLen  int
	sessionKey []byte
	client     types.PrincipalName
	realm      string
	sname      types.PrincipalName
	srealm     string
	tktVNO     int
	etype      int32
	kvno       int

	ticketDER []byte
	clientDER []byte // [1] crealm [2] cname of the authenticator
	session   *cryptoKey
}

// preparedTickets caches preparations by the ticket's encrypted part,
// without keeping it alive: an entry goes when the cipher text is
// collected. Keyed by the cipher text rather than by the *ticket.Ticket,
// because credential sources hand out a fresh Ticket value per request
// that shares the cipher text of the credential they hold: keyed by the
// Ticket, every token would marshal the ticket and derive its keys again.
var preparedTickets sync.Map // weak.Pointer[byte] -> *preparedTicket

func prepareTicket(tkt *ticket.Ticket) (*preparedTicket, error) {
	c := tkt.Ticket.EncPart.Cipher
	if len(c) == 0 {
		return newPreparedTicket(tkt)
	}
	wp := weak.Make(unsafe.SliceData(c))
	if v, ok := preparedTickets.Load(wp); ok {
		if p := v.(*preparedTicket); p.matches(tkt) {
			return p, nil
		}
	}
	p, err := newPreparedTicket(tkt)
	if err != nil {
		return nil, err
	}
	if _, loaded := preparedTickets.Swap(wp, p); !loaded {
		runtime.AddCleanup(unsafe.SliceData(c), func(wp weak.Pointer[byte]) { preparedTickets.Delete(wp) }, wp)
	}
	return p, nil
}

func (p *preparedTicket) matches(tkt *ticket.Ticket) bool {
	c := tkt.Ticket.EncPart.Cipher
	return unsafe.SliceData(c) == p.cipher && len(c) == p.cipherLen &&
		bytes.Equal(tkt.SessionKey.KeyValue, p.sessionKey) && tkt.SessionKey.KeyType == p.session.raw.KeyType &&
		tkt.ClientRealm == p.realm && principalsEqual(tkt.Client, p.client) &&
		tkt.Ticket.Realm == p.srealm && principalsEqual(tkt.Ticket.SName, p.sname) &&
		tkt.Ticket.TktVNO == p.tktVNO && tkt.Ticket.EncPart.EType == p.etype && tkt.Ticket.EncPart.KVNO == p.kvno
}

func principalsEqual(a, b types.PrincipalName) bool {
	return a.NameType == b.NameType && slices.Equal(a.NameString, b.NameString)
}

func newPreparedTicket(tkt *ticket.Ticket) (*preparedTicket, error) {
	der, err := tkt.Ticket.Marshal()
	if err != nil {
		return nil, fmt.Errorf("gss: marshal ticket: %w", err)
	}
	p := &preparedTicket{
		cipher:     unsafe.SliceData(tkt.Ticket.EncPart.Cipher),
		cipherLen:  len(tkt.Ticket.EncPart.Cipher),
		sessionKey: slices.Clone(tkt.SessionKey.KeyValue),
		client:     clonePrincipal(tkt.Client),
		realm:      tkt.ClientRealm,
		sname:      clonePrincipal(tkt.Ticket.SName),
		srealm:     tkt.Ticket.Realm,
		tktVNO:     tkt.Ticket.TktVNO,
		etype:      tkt.Ticket.EncPart.EType,
		kvno:       tkt.Ticket.EncPart.KVNO,
		ticketDER:  der,
	}
	if p.session, err = newCryptoKey(types.EncryptionKey{KeyType: tkt.SessionKey.KeyType, KeyValue: p.sessionKey}); err != nil {
		return nil, fmt.Errorf("gss: ticket session key: %w", err)
	}
	var b derBuilder
	b.open(contextTag(1))
	b.primitive(tagGeneralString, []byte(tkt.ClientRealm))
	b.close()
	b.open(contextTag(2))
	appendPrincipalName(&b, tkt.Client)
	b.close()
	p.clientDER = b.buf
	return p, nil
}

func clonePrincipal(pn types.PrincipalName) types.PrincipalName {
	return types.PrincipalName{NameType: pn.NameType, NameString: slices.Clone(pn.NameString)}
}

// appendPrincipalName appends PrincipalName ::= SEQUENCE { name-type [0]
// Int32, name-string [1] SEQUENCE OF KerberosString }.
func appendPrincipalName(b *derBuilder, pn types.PrincipalName) {
	b.open(tagSequence)
	b.explicitInt(0, int64(pn.NameType))
	b.open(contextTag(1))
	b.open(tagSequence)
	for _, s := range pn.NameString {
		b.primitive(tagGeneralString, []byte(s))
	}
	b.close()
	b.close()
	b.close()
}

// authenticator holds the fields of an authenticator this package sends.
type authenticator struct {
	ctime    time.Time // whole seconds
	cusec    int
	checksum []byte // 0x8003 checksum
	subkey   types.EncryptionKey
	seq      uint64
	cbt      bool // authorization data announcing channel-binding support
}

// marshal encodes the authenticator (RFC 4120 5.5.1) in the field order
// and encoding gokrb5 uses, except that the sequence number is always
// present (gofork drops a zero).
func (a *authenticator) marshal(p *preparedTicket, dst []byte) ([]byte, error) {
	b := derBuilder{buf: dst}
	b.open(0x60 | asnAppTag.Authenticator)
	b.open(tagSequence)
	b.explicitInt(0, iana.PVNO)
	b.raw(p.clientDER)
	b.open(contextTag(3))
	b.open(tagSequence)
	b.explicitInt(0, int64(chksumtype.GSSAPI))
	b.open(contextTag(1))
	b.primitive(tagOctetString, a.checksum)
	b.close()
	b.close()
	b.close()
	b.explicitInt(4, int64(a.cusec))
	b.open(contextTag(5))
	b.generalizedTime(a.ctime)
	b.close()
	b.open(contextTag(6))
	appendEncryptionKey(&b, a.subkey)
	b.close()
	b.explicitInt(7, int64(a.seq))
	if a.cbt {
		ad, err := cbtAuthorizationDataDER()
		if err != nil {
			return nil, err
		}
		b.open(contextTag(8))
		b.raw(ad)
		b.close()
	}
	b.close()
	b.close()
	return b.buf, nil
}

// openKerberosMessage opens the RFC 4121 4.1 framing (the GSS-API
// [APPLICATION 0] with the Kerberos OID and the token ID) around a
// Kerberos message [APPLICATION appTag] SEQUENCE, and writes its pvno [0]
// and msg-type [1]. The caller closes the three open constructions.
func openKerberosMessage(b *derBuilder, tokID [2]byte, appTag, msgType int) {
	b.open(tagGSSApp0)
	b.raw(oidKRB5)
	b.raw(tokID[:])
	b.open(byte(0x60 | appTag))
	b.open(tagSequence)
	b.explicitInt(0, iana.PVNO)
	b.explicitInt(1, int64(msgType))
}

// appendEncryptionKey appends EncryptionKey ::= SEQUENCE { keytype [0]
// Int32, keyvalue [1] OCTET STRING }.
func appendEncryptionKey(b *derBuilder, k types.EncryptionKey) {
	b.open(tagSequence)
	b.explicitInt(0, int64(k.KeyType))
	b.open(contextTag(1))
	b.primitive(tagOctetString, k.KeyValue)
	b.close()
	b.close()
}

// cbtAuthorizationDataDER is the DER of cbtAuthorizationData, made once.
var cbtAuthorizationDataDER = sync.OnceValues(func() ([]byte, error) {
	ad, err := cbtAuthorizationData()
	if err != nil {
		return nil, err
	}
	der, err := asn1.Marshal(ad)
	if err != nil {
		return nil, fmt.Errorf("gss: marshal AP options: %w", err)
	}
	return der, nil
})

// newSubkey returns a random key of the session key's enctype, as gokrb5
// and MIT choose the initiator subkey.
func newSubkey(keyType int32, size int) (types.EncryptionKey, error) {
	k := types.EncryptionKey{KeyType: keyType, KeyValue: make([]byte, size)}
	if _, err := rand.Read(k.KeyValue); err != nil {
		return types.EncryptionKey{}, fmt.Errorf("gss: authenticator subkey: %w", err)
	}
	return k, nil
}

// apOptionMutualRequired is the mutual-required bit (bit 2) of the first
// AP options octet.
const apOptionMutualRequired = 0x20

// marshalAPReqToken builds the initial context token around an AP-REQ
// (RFC 4120 5.5.1) carrying the prepared ticket and the authenticator,
// which it encrypts: raw Kerberos framing (RFC 4121 4.1) or, for
// FormatSPNEGO, that inside a NegTokenInit offering only Kerberos.
func marshalAPReqToken(p *preparedTicket, auth *authenticator, mutual bool, format Format) ([]byte, error) {
	plain, err := auth.marshal(p, make([]byte, 0, 256))
	if err != nil {
		return nil, err
	}
	ed, err := p.session.encrypt(keyusage.AP_REQ_AUTHENTICATOR, plain)
	clear(plain) // it holds the subkey
	if err != nil {
		return nil, fmt.Errorf("gss: encrypt authenticator: %w", err)
	}
	b := derBuilder{buf: make([]byte, 0, len(p.ticketDER)+len(ed.Cipher)+128)}
	if format == FormatSPNEGO {
		b.open(tagGSSApp0)
		b.raw(oidSPNEGO)
		b.open(tagNegInit)
		b.open(tagSequence)
		b.open(contextTag(0))
		b.open(tagSequence)
		b.raw(oidKRB5)
		b.close()
		b.close()
		b.open(contextTag(2))
		b.open(tagOctetString)
	}
	openKerberosMessage(&b, tokIDAPReq, asnAppTag.APREQ, msgtype.KRB_AP_REQ)
	b.open(contextTag(2))
	var opts [5]byte // no unused bits, then 32 option bits
	if mutual {
		opts[1] = apOptionMutualRequired
	}
	b.primitive(tagBitString, opts[:])
	b.close()
	b.open(contextTag(3))
	b.raw(p.ticketDER)
	b.close()
	b.open(contextTag(4))
	appendEncryptedData(&b, ed)
	for b.depth > 0 {
		b.close()
	}
	return b.buf, nil
}
