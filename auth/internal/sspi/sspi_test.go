package sspi

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// windowsBindingsMD5 computes the authenticator's Bnd from a
// SEC_CHANNEL_BINDINGS buffer the way Windows' Kerberos package does:
// the MD5 of the address types and lengths (with the addresses, none
// here) and of the application data the offsets point at.
func windowsBindingsMD5(t *testing.T, b []byte) [16]byte {
	t.Helper()
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	appLen, appOff := u32(24), u32(28)
	if int(appOff)+int(appLen) > len(b) {
		t.Fatalf("application data %d+%d beyond the %d-byte buffer", appOff, appLen, len(b))
	}
	var in []byte
	for _, off := range []int{0, 4} { // initiator type and length
		in = binary.LittleEndian.AppendUint32(in, u32(off))
	}
	for _, off := range []int{12, 16} { // acceptor type and length
		in = binary.LittleEndian.AppendUint32(in, u32(off))
	}
	in = binary.LittleEndian.AppendUint32(in, appLen)
	in = append(in, b[appOff:appOff+appLen]...)
	return md5.Sum(in)
}

func TestChannelBindingsHashLikeGSS(t *testing.T) {
	for _, app := range [][]byte{
		[]byte("tls-server-end-point:" + string(bytes.Repeat([]byte{0xab}, 32))),
		[]byte("tls-server-end-point:" + string(bytes.Repeat([]byte{0x01}, 64))),
		{},
	} {
		b := ChannelBindings(app)
		if len(b) != secChannelBindingsLen+len(app) || !bytes.Equal(b[secChannelBindingsLen:], app) {
			t.Fatalf("layout % x", b)
		}
		if !bytes.Equal(b[:24], make([]byte, 24)) {
			t.Fatalf("addresses set: % x", b[:24])
		}
		if got, want := windowsBindingsMD5(t, b), gss.ChannelBindingsMD5(app); got != want {
			t.Fatalf("Bnd %x, gss computes %x", got, want)
		}
	}
}

// contexts returns the two sides of an AES256 context with an acceptor
// subkey, as MIT and Windows acceptors set it up.
func contexts(t *testing.T) (client, server *gss.SecurityContext) {
	t.Helper()
	key := func() types.EncryptionKey {
		k := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: make([]byte, 32)}
		_, _ = rand.Read(k.KeyValue)
		return k
	}
	client = &gss.SecurityContext{Initiator: true, SessionKey: key(), InitiatorSubkey: key(), AcceptorSubkey: key(),
		InitiatorSeq: 7, AcceptorSeq: 1000}
	s := *client
	s.Initiator = false
	return client, &s
}

// gssWrapToken turns a Windows-layout token (RRC 28) into what MIT's
// gss_wrap emits: RRC 0, the body rotated back. The RRC is outside the
// checksum, which covers the encrypted header copy (RRC 0 there).
func gssWrapToken(tok []byte) []byte {
	rrc := int(binary.BigEndian.Uint16(tok[6:8]))
	out := slices.Clone(tok[:16])
	binary.BigEndian.PutUint16(out[6:8], 0)
	body := tok[16:]
	return append(append(out, body[rrc:]...), body[:rrc]...)
}

// TestSealedPartsBothLayouts: what a Windows EncryptMessage and a gss_wrap
// one (Wine's) leave in TOKEN and DATA both become a WinRM message the
// acceptor opens.
func TestSealedPartsBothLayouts(t *testing.T) {
	client, server := contexts(t)
	for _, n := range []int{0, 1, 17, 1500} {
		pt := make([]byte, n)
		_, _ = rand.Read(pt)
		win, err := client.Wrap(pt, 7)
		if err != nil {
			t.Fatal(err)
		}
		over := len(win) - n
		whole := gssWrapToken(win)
		cases := []struct {
			name        string
			token, data []byte
			layout      Layout
		}{
			{"windows", win[:over], win[over:], LayoutWindows},
			// gss_wrap output cut after len(plaintext) bytes: DATA first.
			{"gss_wrap", whole[n:], whole[:n], LayoutGSSWrap},
		}
		for _, c := range cases {
			header, data, layout, err := SealedParts(slices.Clone(c.token), slices.Clone(c.data))
			if err != nil || layout != c.layout {
				t.Fatalf("%s n=%d: layout %v, %v", c.name, n, layout, err)
			}
			if len(data) != n || len(header) != over {
				t.Fatalf("%s n=%d: header %d, data %d bytes", c.name, n, len(header), len(data))
			}
			opener, err := gss.NewSealer(server)
			if err != nil {
				t.Fatal(err)
			}
			got, err := opener.OpenParts(header, data)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s n=%d: acceptor opens %v", c.name, n, err)
			}
		}
	}
}

// TestOpenBuffersBothLayouts: a WinRM message from the server, split as
// each implementation's DecryptMessage wants it, is the token that
// implementation unwraps: Windows takes the header as TOKEN; Wine joins
// DATA then TOKEN and hands that to gss_unwrap, which honours the RRC.
func TestOpenBuffersBothLayouts(t *testing.T) {
	_, server := contexts(t)
	pt := []byte("<s:Envelope>reply</s:Envelope>")
	tok, err := server.Wrap(pt, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := len(pt)
	header, data := tok[:len(tok)-n], tok[len(tok)-n:]

	token, buf := OpenBuffers(header, data, LayoutWindows)
	if !bytes.Equal(token, header) || !bytes.Equal(buf, data) {
		t.Fatal("windows layout: buffers are not header and data")
	}
	token, buf = OpenBuffers(header, data, LayoutGSSWrap)
	if len(buf) != n || !bytes.Equal(append(slices.Clone(buf), token...), tok) {
		t.Fatal("gss_wrap layout: DATA then TOKEN is not the token")
	}
	// The buffers are copies: DecryptMessage writes into them.
	buf[0] ^= 1
	if tok[0] != 0x05 || !bytes.Equal(tok[len(tok)-n:], data) {
		t.Fatal("OpenBuffers shares memory with its input")
	}
}

// TestSealedPartsWineRecording: the buffers Wine 8.0's EncryptMessage
// (Negotiate package over MIT krb5 1.20, AES256) filled for a 47-byte
// message in the lab: DATA starts with the token header (flags 06: sealed,
// acceptor subkey; EC 0, RRC 0), TOKEN holds the last 60 bytes.
func TestSealedPartsWineRecording(t *testing.T) {
	token, _ := hex.DecodeString("bd128e37000e3d31a2780486f6f3a463300f2c47744c43d5f020abfd1574712e0dd874e915aab4e746b219c6833690b77a3690b43ca7021ed1334322")
	data, _ := hex.DecodeString("050406ff000000000000000015326055699e583d08aa397160a3ca7932e77715356b7c9b6c1686a71979d50a28446f")
	header, body, layout, err := SealedParts(token, data)
	if err != nil || layout != LayoutGSSWrap {
		t.Fatalf("layout %v, %v", layout, err)
	}
	if len(header) != 60 || len(body) != 47 {
		t.Fatalf("header %d, data %d bytes; want 60 and 47", len(header), len(body))
	}
	if !bytes.Equal(header[:16], data[:16]) || !bytes.Equal(append(slices.Clone(header), body...), append(slices.Clone(data), token...)) {
		t.Fatal("header and data are not the gss_wrap token in order")
	}
}

func TestSealedPartsUnknownLayout(t *testing.T) {
	if _, _, _, err := SealedParts([]byte{1, 2, 3}, []byte{4, 5, 6}); !errors.Is(err, errUnknownLayout) {
		t.Fatalf("err %v", err)
	}
}

// TestStatusErrors: SSPI failures match the errors the pure-Go path
// reports for the same condition.
func TestStatusErrors(t *testing.T) {
	for status, want := range map[uint32]error{
		statusTargetUnknown:  credentials.ErrPrincipalUnknown,
		statusNoCredentials:  credentials.ErrNoCredentials,
		statusNoAuthority:    credentials.ErrKDCUnreachable,
		statusMessageAltered: gss.ErrIntegrity,
		statusOutOfSequence:  gss.ErrSequence,
		statusTimeSkew:       gss.ErrClockSkew,
	} {
		err := errStatus("InitializeSecurityContext", status)
		var se *Error
		if !errors.Is(err, want) || !errors.As(err, &se) || se.Status != status {
			t.Errorf("%#x: %v does not match %v", status, err, want)
		}
	}
	if errStatus("EncryptMessage", statusOK) != nil {
		t.Fatal("SEC_E_OK is an error")
	}
	err := mutualFailure(errStatus("InitializeSecurityContext", statusInternalError))
	if !errors.Is(err, gss.ErrMutualAuth) || err.Error() == "" {
		t.Fatalf("mutual failure %v", err)
	}
	if got := (&Error{Op: "X", Status: 0x80091234}).Error(); got != "sspi: X: SECURITY_STATUS (0x80091234)" {
		t.Fatalf("unknown status: %q", got)
	}
}

// FuzzSealedParts: whatever EncryptMessage left in the buffers, the
// layout recognition neither panics nor loses or invents a byte.
func FuzzSealedParts(f *testing.F) {
	client, _ := contexts(&testing.T{})
	tok, _ := client.Wrap([]byte("seed message"), 1)
	f.Add(tok[:60], tok[60:])
	whole := gssWrapToken(tok)
	f.Add(whole[12:], whole[:12])
	f.Add([]byte{0x60, 1}, []byte{})
	f.Fuzz(func(t *testing.T, token, data []byte) {
		header, body, layout, err := SealedParts(slices.Clone(token), slices.Clone(data))
		if err != nil {
			return
		}
		if len(header) != len(token) || len(body) != len(data) {
			t.Fatalf("%v: lengths %d+%d from %d+%d", layout, len(header), len(body), len(token), len(data))
		}
		in := append(slices.Clone(token), data...)
		if layout == LayoutGSSWrap {
			in = append(slices.Clone(data), token...)
		}
		if !bytes.Equal(append(slices.Clone(header), body...), in) {
			t.Fatalf("%v: bytes changed", layout)
		}
	})
}

// TestSealedPartsCiphertextLikeATag: in Wine's layout TOKEN holds
// ciphertext, whose first byte is 0x60 (the RFC 2743 token tag) once in
// 256 messages; such a message is still Wine's, and the acceptor opens it.
// A real RFC 1964 wrap token (the tag, then the Kerberos OID and token ID
// 02 01) in TOKEN is Windows' layout.
func TestSealedPartsCiphertextLikeATag(t *testing.T) {
	client, server := contexts(t)
	pt := []byte("<s:Envelope>0123456789</s:Envelope>")
	found := false
	for seq := uint64(7); seq < 7+20000 && !found; seq++ {
		tok, err := client.Wrap(pt, seq)
		if err != nil {
			t.Fatal(err)
		}
		whole := gssWrapToken(tok)
		n := len(pt)
		if whole[n] != 0x60 {
			continue
		}
		found = true
		header, data, layout, err := SealedParts(slices.Clone(whole[n:]), slices.Clone(whole[:n]))
		if err != nil || layout != LayoutGSSWrap {
			t.Fatalf("layout %v, %v", layout, err)
		}
		// The acceptor expects this sequence number next.
		s2 := *server
		s2.InitiatorSeq = seq
		opener, err := gss.NewSealer(&s2)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := opener.OpenParts(header, data); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("acceptor: %v", err)
		}
	}
	if !found {
		t.Fatal("no ciphertext starting with 0x60 in 20000 messages")
	}
	rc4 := append([]byte{0x60, 0x30}, rfc1964Wrap...)
	rc4 = append(rc4, make([]byte, 0x30-len(rfc1964Wrap))...)
	if _, _, layout, err := SealedParts(rc4, []byte("data")); err != nil || layout != LayoutWindows {
		t.Fatalf("RFC 1964 token: layout %v, %v", layout, err)
	}
}
