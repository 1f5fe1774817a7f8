package gss

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

const testRealm = "EXAMPLE.TEST"

func testTGT(t *testing.T, client string) *ticket.Ticket {
	t.Helper()
	return krbtest.NewService(t, "krbtgt/"+testRealm, testRealm).Ticket(t, client, krbtest.WithFlags(flags.Forwardable, flags.Forwarded))
}

// krbCredWith frames an EncryptedData as a KRB-CRED around tgt, for
// encodings MarshalKRBCred does not produce.
func krbCredWith(t *testing.T, tgt *ticket.Ticket, ed types.EncryptedData) []byte {
	t.Helper()
	ticket, err := tgt.Ticket.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	encPart, err := asn1.Marshal(ed)
	if err != nil {
		t.Fatal(err)
	}
	return der(0x76, der(tagSequence,
		der(contextTag(0), smallInt(5)),
		der(contextTag(1), smallInt(msgtype.KRB_CRED)),
		der(contextTag(2), der(tagSequence, ticket)),
		der(contextTag(3), encPart),
	))
}

// TestKRBCredWireFormat checks what gokrb5's own structures get wrong:
// both realms are GeneralString (tag 0x1b), not IA5String.
func TestKRBCredWireFormat(t *testing.T) {
	svc := krbtest.NewService(t, "HTTP/host.example.test", testRealm)
	key := svc.Ticket(t, "alice").SessionKey
	tgt := testTGT(t, "alice")
	b, err := MarshalKRBCred(tgt, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDER(b, "KRB-CRED"); err != nil {
		t.Fatal(err)
	}
	_, ed, err := parseKRBCredMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := decrypt(ed, key, keyusage.KRB_CRED_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	realm := append([]byte{0x1b, byte(len(testRealm))}, testRealm...)
	for _, field := range []byte{0xa1, 0xa8} { // prealm [1], srealm [8]
		if !bytes.Contains(pt, append([]byte{field, byte(len(realm))}, realm...)) {
			t.Errorf("realm field %#x is not a GeneralString in %s", field, hex.EncodeToString(pt))
		}
	}
}

// TestKRBCredNullEnctype: an unencrypted KRB-CRED (enctype 0), which
// some initiators send inside the already encrypted authenticator, is read
// without a key.
func TestKRBCredNullEnctype(t *testing.T) {
	tgt := testTGT(t, "alice")
	enc, err := asn1.Marshal(encKrbCredPart{TicketInfo: []krbCredInfo{{Key: tgt.SessionKey}}})
	if err != nil {
		t.Fatal(err)
	}
	b := krbCredWith(t, tgt, types.EncryptedData{EType: etypeNull, Cipher: asn1tools.AddASNAppTag(enc, asnAppTag.EncKrbCredPart)})
	got, err := delegatedTickets(b, tgt.Client, tgt.ClientRealm)
	if err != nil {
		t.Fatal(err)
	}
	// An info without names takes the authenticated client's.
	if len(got) != 1 || !bytes.Equal(got[0].SessionKey.KeyValue, tgt.SessionKey.KeyValue) || got[0].ClientRealm != testRealm {
		t.Fatalf("got %+v", got)
	}
}

// TestDelegatedTicketsSubkey: a KRB-CRED under the authenticator subkey,
// as some initiators encrypt it, is read as well as one under the session
// key.
func TestDelegatedTicketsSubkey(t *testing.T) {
	svc := krbtest.NewService(t, "HTTP/host.example.test", testRealm)
	session, subkey := svc.Ticket(t, "alice").SessionKey, svc.Ticket(t, "alice").SessionKey
	tgt := testTGT(t, "alice")
	for name, key := range map[string]types.EncryptionKey{"session key": session, "subkey": subkey} {
		b, err := MarshalKRBCred(tgt, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := delegatedTickets(b, tgt.Client, tgt.ClientRealm, session, subkey); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	b, _ := MarshalKRBCred(tgt, svc.Ticket(t, "alice").SessionKey)
	if _, err := delegatedTickets(b, tgt.Client, tgt.ClientRealm, session, subkey); !errors.Is(err, ErrIntegrity) {
		t.Errorf("unrelated key: %v", err)
	}
}

// TestKRBCredFraming refuses structurally wrong messages that gofork asn1
// would let through.
func TestKRBCredFraming(t *testing.T) {
	tgt := testTGT(t, "alice")
	ticket, _ := tgt.Ticket.Marshal()
	ed, _ := asn1.Marshal(types.EncryptedData{EType: etypeNull, Cipher: []byte{0x7d, 0}})
	pvno, mt := der(contextTag(0), smallInt(5)), der(contextTag(1), smallInt(22))
	tickets, enc := der(contextTag(2), der(tagSequence, ticket)), der(contextTag(3), ed)
	for name, b := range map[string][]byte{
		"wrong app tag":   der(0x75, der(tagSequence, pvno, mt, tickets, enc)),
		"pvno 4":          der(0x76, der(tagSequence, der(contextTag(0), smallInt(4)), mt, tickets, enc)),
		"msg-type 21":     der(0x76, der(tagSequence, pvno, der(contextTag(1), smallInt(21)), tickets, enc)),
		"no tickets tag":  der(0x76, der(tagSequence, pvno, mt, der(tagSequence, ticket), enc)),
		"not a ticket":    der(0x76, der(tagSequence, pvno, mt, der(contextTag(2), der(tagSequence, smallInt(1))), enc)),
		"missing enc":     der(0x76, der(tagSequence, pvno, mt, tickets)),
		"fields reversed": der(0x76, der(tagSequence, mt, pvno, tickets, enc)),
		"empty infos":     der(0x76, der(tagSequence, pvno, mt, tickets, enc)),
	} {
		if _, err := ParseKRBCred(b); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestGSSChecksumBytes pins the 0x8003 checksum layout byte for byte,
// without and with delegation (RFC 4121 4.1.1).
func TestGSSChecksumBytes(t *testing.T) {
	bnd := [16]byte{0: 0xb0, 15: 0xbf}
	plain, err := gssChecksum{bnd: bnd, flags: FlagMutual | FlagSequence}.marshal()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("10000000" + "b00000000000000000000000000000bf" + "0a000000")
	if !bytes.Equal(plain, want) {
		t.Fatalf("without delegation:\n got %x\nwant %x", plain, want)
	}
	deleg, err := gssChecksum{bnd: bnd, flags: FlagDelegate | FlagMutual | FlagSequence, deleg: []byte{0x76, 0x01, 0x02}}.marshal()
	if err != nil {
		t.Fatal(err)
	}
	want, _ = hex.DecodeString("10000000" + "b00000000000000000000000000000bf" + "0b000000" + "0100" + "0300" + "760102")
	if !bytes.Equal(deleg, want) {
		t.Fatalf("with delegation:\n got %x\nwant %x", deleg, want)
	}
	if _, err := (gssChecksum{flags: FlagDelegate, deleg: make([]byte, 0x10000)}).marshal(); err == nil {
		t.Fatal("a KRB-CRED over 65535 bytes was accepted")
	}
}
