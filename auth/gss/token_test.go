package gss

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/types"
)

func TestReadDER(t *testing.T) {
	long := append([]byte{0x04, 0x82, 0x01, 0x00}, make([]byte, 256)...)
	el, rest, err := readDER(append(bytes.Clone(long), 0xff))
	if err != nil || len(el.content) != 256 || !bytes.Equal(rest, []byte{0xff}) || len(el.full) != len(long) {
		t.Fatalf("long form: %v %d %x", err, len(el.content), rest)
	}
	for name, b := range map[string][]byte{
		"empty":            nil,
		"one byte":         {0x30},
		"indefinite":       {0x30, 0x80, 0x00, 0x00},
		"high tag":         {0x1f, 0x81, 0x00},
		"length too long":  {0x04, 0x05, 0x00},
		"truncated length": {0x04, 0x82, 0x01},
		"4-byte length":    {0x04, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00},
	} {
		if _, _, err := readDER(b); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAppendDERLengths(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536} {
		b := der(tagOctetString, make([]byte, n))
		el, rest, err := readDER(b)
		if err != nil || len(rest) != 0 || len(el.content) != n {
			t.Errorf("length %d: %v", n, err)
		}
	}
}

func TestCheckDER(t *testing.T) {
	good := der(0x6f, der(tagSequence, der(contextTag(0), der(0x02, []byte{5}))))
	if err := checkDER(good, "x"); err != nil {
		t.Fatal(err)
	}
	// An explicit tag whose length covers less than its child, the
	// tampering gofork asn1 does not notice.
	bad := bytes.Clone(good)
	bad[5] = 0x02 // [0] length 3 -> 2
	if err := checkDER(bad, "x"); !errors.Is(err, ErrMalformedToken) {
		t.Fatalf("inconsistent explicit length: %v", err)
	}
	deep := []byte{0x04, 0x00}
	for range maxDERDepth + 2 {
		deep = der(tagSequence, deep)
	}
	if err := checkDER(deep, "x"); !errors.Is(err, ErrMalformedToken) {
		t.Fatalf("deep nesting: %v", err)
	}
	if err := checkDER(append(bytes.Clone(good), 0), "x"); !errors.Is(err, ErrMalformedToken) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestNegTokenInitRoundTrip(t *testing.T) {
	mechToken := marshalKRB5(tokIDAPReq, []byte{0x6e, 0x00})
	b := marshalNegTokenInit([][]byte{oidMSKRB5, oidKRB5}, mechToken)
	oid, inner, err := unwrapGSS(b)
	if err != nil || !bytes.Equal(oid, oidSPNEGO) {
		t.Fatal(oid, err)
	}
	nti, err := parseNegTokenInit(inner)
	if err != nil {
		t.Fatal(err)
	}
	if len(nti.mechTypes) != 2 || !bytes.Equal(nti.mechTypes[0], oidMSKRB5) || !bytes.Equal(nti.mechToken, mechToken) {
		t.Fatalf("%x", nti)
	}
}

// TestNegTokenInitFromWindows parses a NegTokenInit laid out as Windows
// sends it: MS legacy OID first, then Kerberos, NEGOEX and NTLM, with
// reqFlags absent and the Kerberos token after.
func TestNegTokenInitFromWindows(t *testing.T) {
	oidNEGOEX := []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e}
	oidNTLM := []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}
	mechToken := marshalKRB5(tokIDAPReq, []byte{0x6e, 0x00})
	b := marshalNegTokenInit([][]byte{oidMSKRB5, oidKRB5, oidNEGOEX, oidNTLM}, mechToken)
	in, err := parseInitialToken(b)
	if err != nil {
		t.Fatal(err)
	}
	if in.format != FormatSPNEGO || !bytes.Equal(in.mech, oidMSKRB5) {
		t.Fatalf("format %v mech %x", in.format, in.mech)
	}
}

func TestParseNegTokenInitErrors(t *testing.T) {
	seq := func(fields ...[]byte) []byte { return der(tagNegInit, der(tagSequence, fields...)) }
	mechs := der(contextTag(0), der(tagSequence, oidKRB5))
	tok := der(contextTag(2), der(tagOctetString, []byte{1}))
	for name, b := range map[string][]byte{
		"not init":         der(tagNegResp, der(tagSequence)),
		"no mechTypes":     seq(tok),
		"empty mechTypes":  seq(der(contextTag(0), der(tagSequence)), tok),
		"fields reversed":  seq(tok, mechs),
		"field twice":      seq(mechs, mechs),
		"mech not an OID":  seq(der(contextTag(0), der(tagSequence, der(tagOctetString))), tok),
		"token not octets": seq(mechs, der(contextTag(2), der(tagSequence))),
		"universal field":  seq(der(tagSequence)),
		"empty field":      seq(der(contextTag(0))),
		"trailing":         append(seq(mechs, tok), 0),
	} {
		if _, err := parseNegTokenInit(b); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := parseInitialToken(wrapGSS(oidSPNEGO, seq(mechs))); !errors.Is(err, ErrUnsupported) {
		t.Errorf("no optimistic token: %v", err)
	}
}

func TestNegTokenResp(t *testing.T) {
	b := marshalNegTokenResp(negAcceptCompleted, oidMSKRB5, []byte{1, 2, 3})
	for _, in := range [][]byte{b, wrapGSS(oidSPNEGO, b)} {
		r, err := parseNegTokenResp(in)
		if err != nil || r.negState != negAcceptCompleted || !bytes.Equal(r.supportedMech, oidMSKRB5) || !bytes.Equal(r.responseToken, []byte{1, 2, 3}) {
			t.Fatalf("%+v %v", r, err)
		}
	}
	// The accept-completed reply without a token that MIT and IIS send,
	// "oRQwEqADCgEAoQsGCSqGSIb3EgECAg==" in a header.
	want := []byte{0xa1, 0x14, 0x30, 0x12, 0xa0, 0x03, 0x0a, 0x01, 0x00, 0xa1, 0x0b, 0x06, 0x09,
		0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	if got := marshalNegTokenResp(negAcceptCompleted, oidKRB5, nil); !bytes.Equal(got, want) {
		t.Fatalf("%x, want %x", got, want)
	}
	r, err := parseNegTokenResp(der(tagNegResp, der(tagSequence, der(contextTag(3), der(tagOctetString, []byte{9})))))
	if err != nil || r.negState != negStateAbsent || !bytes.Equal(r.mechListMIC, []byte{9}) {
		t.Fatalf("%+v %v", r, err)
	}
	for name, in := range map[string][]byte{
		"negState 4":     der(tagNegResp, der(tagSequence, der(contextTag(0), der(tagEnumerated, []byte{4})))),
		"negState 2 len": der(tagNegResp, der(tagSequence, der(contextTag(0), der(tagEnumerated, []byte{0, 0})))),
		"other OID":      wrapGSS(oidKRB5, b),
		"init":           marshalNegTokenInit([][]byte{oidKRB5}, []byte{1}),
	} {
		if _, err := parseNegTokenResp(in); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseKRB5(t *testing.T) {
	for _, oid := range [][]byte{oidKRB5, oidMSKRB5} {
		tok, err := parseKRB5(wrapGSS(oid, tokIDAPRep[:], []byte{0x6f, 0x00}))
		if err != nil || tok.id != tokIDAPRep || !bytes.Equal(tok.msg, []byte{0x6f, 0x00}) {
			t.Fatalf("%+v %v", tok, err)
		}
	}
	for name, b := range map[string][]byte{
		"spnego oid":  wrapGSS(oidSPNEGO, tokIDAPRep[:]),
		"no token id": wrapGSS(oidKRB5, []byte{1}),
		"no oid":      der(tagGSSApp0, der(tagOctetString)),
		"empty app":   der(tagGSSApp0),
		"trailing":    append(wrapGSS(oidKRB5, tokIDAPRep[:]), 0),
	} {
		if _, err := parseKRB5(b); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestGSSChecksum(t *testing.T) {
	bnd := [16]byte{1, 2, 3}
	for _, c := range []gssChecksum{
		{bnd: bnd, flags: FlagMutual | FlagSequence},
		{flags: FlagDelegate | FlagMutual, deleg: []byte("krb-cred")},
	} {
		b, err := c.marshal()
		if err != nil {
			t.Fatal(err)
		}
		if binary.LittleEndian.Uint32(b) != 16 || binary.LittleEndian.Uint32(b[20:]) != uint32(c.flags) {
			t.Fatalf("layout %x", b)
		}
		if c.deleg != nil && (binary.LittleEndian.Uint16(b[24:]) != 1 || int(binary.LittleEndian.Uint16(b[26:])) != len(c.deleg)) {
			t.Fatalf("delegation layout %x", b)
		}
		got, err := parseGSSChecksum(b)
		if err != nil || got.bnd != c.bnd || got.flags != c.flags || !bytes.Equal(got.deleg, c.deleg) {
			t.Fatalf("%+v %v, want %+v", got, err, c)
		}
	}

	base := func(fl Flags, extra ...byte) []byte {
		b, _ := gssChecksum{flags: fl}.marshal()
		return append(b, extra...)
	}
	// MIT reads the delegation option only with the DELEG flag, and a
	// DELEG flag with nothing after it delegates nothing.
	for name, b := range map[string][]byte{
		"trailing without DELEG": base(FlagMutual, 1, 0, 3, 0, 'a', 'b', 'c'),
		"DELEG without option":   base(FlagDelegate | FlagMutual),
		"DELEG with short tail":  base(FlagDelegate|FlagMutual, 1, 0),
		"DELEG empty Deleg":      base(FlagDelegate|FlagMutual, 1, 0, 0, 0),
	} {
		c, err := parseGSSChecksum(b)
		if err != nil || c.flags != FlagMutual || c.deleg != nil {
			t.Errorf("%s: %+v %v", name, c, err)
		}
	}
	wrongLgth := base(0)
	wrongLgth[0] = 15
	for name, b := range map[string][]byte{
		"short":         make([]byte, 23),
		"Lgth 15":       wrongLgth,
		"DlgOpt 2":      base(FlagDelegate, 2, 0, 1, 0, 'x'),
		"Dlgth too big": base(FlagDelegate, 1, 0, 9, 0, 'x'),
	} {
		if _, err := parseGSSChecksum(b); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAuthenticatorChecksumType(t *testing.T) {
	ck, err := authenticatorChecksum(&types.Authenticator{})
	if err != nil || ck.flags != 0 || hasBindings(ck.bnd) {
		t.Fatalf("missing checksum: %+v %v", ck, err)
	}
	auth := &types.Authenticator{Cksum: types.Checksum{CksumType: 16, Checksum: make([]byte, 12)}}
	if _, err := authenticatorChecksum(auth); !errors.Is(err, ErrMalformedToken) {
		t.Fatalf("HMAC checksum: %v", err)
	}
}

// TestCheckBindingsCBTAware covers the MIT 1.19+ rule directly: a client
// that announces KERB_AP_OPTIONS_CBT and sends no bindings is refused
// where bindings are expected, and accepted where they are not.
func TestCheckBindingsCBTAware(t *testing.T) {
	ad, err := cbtAuthorizationData()
	if err != nil {
		t.Fatal(err)
	}
	if !announcesCBT(ad) || announcesCBT(nil) {
		t.Fatal("announcesCBT")
	}
	expected := ChannelBindingsMD5([]byte("x"))
	aware := &types.Authenticator{AuthorizationData: ad}
	plain := &types.Authenticator{}
	strict := &Acceptor{bindings: &expected}
	if _, err := strict.checkBindings([16]byte{}, aware); !errors.Is(err, ErrBadBindings) {
		t.Errorf("aware client, no bindings: %v", err)
	}
	if ok, err := strict.checkBindings([16]byte{}, plain); ok || err != nil {
		t.Errorf("plain client, no bindings: %v %v", ok, err)
	}
	if ok, err := strict.checkBindings(expected, aware); !ok || err != nil {
		t.Errorf("aware client, bindings: %v %v", ok, err)
	}
	if ok, err := (&Acceptor{}).checkBindings([16]byte{}, aware); ok || err != nil {
		t.Errorf("no expectation: %v %v", ok, err)
	}
	// Undecodable if-relevant data is ignored, as its name allows.
	junk := types.AuthorizationData{{ADType: 1, ADData: []byte{0xff}}}
	if announcesCBT(junk) {
		t.Error("junk AD announced CBT")
	}
}

func TestFlagsString(t *testing.T) {
	for f, want := range map[Flags]string{
		0:                       "0x0",
		FlagMutual:              "mutual",
		FlagMutual | FlagInteg:  "mutual|integ",
		FlagDelegate | 0x1000:   "delegate|0x1000",
		FlagConf | FlagSequence: "sequence|conf",
	} {
		if got := f.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint32(f), got, want)
		}
	}
	if !strings.Contains(Format(5).String(), "5") || FormatKRB5.String() != "KRB5" {
		t.Error("Format.String")
	}
}

func TestGuardRecovers(t *testing.T) {
	err := guard("thing", func() error {
		var b []byte
		_ = b[1]
		return nil
	})
	if !errors.Is(err, ErrMalformedToken) {
		t.Fatal(err)
	}
}

func TestDecryptChecks(t *testing.T) {
	key, err := newKey(18)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		ed  types.EncryptedData
		key types.EncryptionKey
	}{
		"etype mismatch":   {types.EncryptedData{EType: 17, Cipher: make([]byte, 64)}, key},
		"short ciphertext": {types.EncryptedData{EType: 18, Cipher: make([]byte, 27)}, key},
		"short key":        {types.EncryptedData{EType: 18, Cipher: make([]byte, 64)}, types.EncryptionKey{KeyType: 18, KeyValue: key.KeyValue[:16]}},
		"unknown etype":    {types.EncryptedData{EType: 99, Cipher: make([]byte, 64)}, types.EncryptionKey{KeyType: 99}},
	} {
		if _, err := decrypt(c.ed, c.key, 12); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Every enctype at its minimum length: must fail without panicking.
	for _, et := range []int32{17, 18, 19, 20, 23, 16} {
		k, err := newKey(et)
		if err != nil {
			t.Fatal(et, err)
		}
		for n := range 64 {
			if _, err := decrypt(types.EncryptedData{EType: et, Cipher: make([]byte, n)}, k, 12); err == nil {
				t.Errorf("enctype %d: %d zero bytes decrypted", et, n)
			}
		}
	}
}
