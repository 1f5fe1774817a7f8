package encryption_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/wsman/encryption"
)

// wantFrame is a framed message as Windows and pywinrm write it.
const wantFrame = "--Encrypted Boundary\r\n" +
	"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
	"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=5\r\n" +
	"--Encrypted Boundary\r\n" +
	"\tContent-Type: application/octet-stream\r\n" +
	"\x03\x00\x00\x00HDRdata!--Encrypted Boundary--\r\n"

func TestFrameIsByteExact(t *testing.T) {
	t.Parallel()
	got := encryption.Frame(&encryption.Message{Protocol: encryption.ProtocolSPNEGO, Length: 5, Header: []byte("HDR"), Data: []byte("data!")})
	if string(got) != wantFrame {
		t.Fatalf("framed:\n%q\nwant:\n%q", got, wantFrame)
	}
	ct := encryption.ContentType(encryption.ProtocolKerberos)
	if ct != `multipart/encrypted;protocol="application/HTTP-Kerberos-session-encrypted";boundary="Encrypted Boundary"` {
		t.Fatalf("Content-Type %s", ct)
	}
	if !encryption.IsEncrypted(ct) || encryption.IsEncrypted(encryption.SOAPContentType) {
		t.Fatal("IsEncrypted")
	}
}

func TestParseVariants(t *testing.T) {
	t.Parallel()
	ct := encryption.ContentType(encryption.ProtocolSPNEGO)
	variants := map[string]string{
		"exact":            wantFrame,
		"exchange spaces":  strings.ReplaceAll(wantFrame, "--Encrypted Boundary", "-- Encrypted Boundary"),
		"no final dashes":  strings.TrimSuffix(wantFrame, "--\r\n") + "\r\n",
		"no final CRLF":    strings.TrimSuffix(wantFrame, "\r\n"),
		"bare final":       strings.TrimSuffix(wantFrame, "--\r\n"),
		"LF line ends":     strings.Replace(strings.Replace(wantFrame, "\r\n", "\n", 5), "--\r\n", "--\n", 1),
		"no tabs, casing":  strings.NewReplacer("\tContent-Type", "content-type", "\tOriginalContent", "ORIGINALCONTENT").Replace(wantFrame),
		"length not last":  strings.Replace(wantFrame, "type=application/soap+xml;charset=UTF-8;Length=5", "Length=5;type=application/soap+xml", 1),
		"boundary in data": strings.Replace(wantFrame, "data!", "--Encrypted Boundary--\r\n", 1),
	}
	for name, body := range variants {
		m, err := encryption.Parse(ct, []byte(body))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.Protocol != encryption.ProtocolSPNEGO || m.Length != 5 || string(m.Header) != "HDR" {
			t.Errorf("%s: %+v", name, m)
		}
		wantData := "data!"
		if name == "boundary in data" {
			wantData = "--Encrypted Boundary--\r\n"
		}
		if string(m.Data) != wantData {
			t.Errorf("%s: data %q", name, m.Data)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	ct := encryption.ContentType(encryption.ProtocolSPNEGO)
	bad := map[string]struct{ ct, body string }{
		"soap content type":  {encryption.SOAPContentType, wantFrame},
		"no protocol":        {"multipart/encrypted;boundary=\"Encrypted Boundary\"", wantFrame},
		"protocol mismatch":  {encryption.ContentType(encryption.ProtocolKerberos), wantFrame},
		"no length":          {ct, strings.Replace(wantFrame, ";Length=5", "", 1)},
		"negative length":    {ct, strings.Replace(wantFrame, "Length=5", "Length=-5", 1)},
		"huge header length": {ct, strings.Replace(wantFrame, "\x03\x00\x00\x00", "\xff\xff\xff\xff", 1)},
		"no closing":         {ct, strings.TrimSuffix(wantFrame, "--Encrypted Boundary--\r\n")},
		"wrong second part":  {ct, strings.Replace(wantFrame, "application/octet-stream", "text/plain", 1)},
		"no leading bound":   {ct, strings.TrimPrefix(wantFrame, "--Encrypted Boundary\r\n")},
		"empty":              {ct, ""},
		"overlong line":      {ct, "--Encrypted Boundary\r\n\t" + strings.Repeat("x", 5000) + "\r\n"},
	}
	for name, c := range bad {
		if _, err := encryption.Parse(c.ct, []byte(c.body)); !errors.Is(err, encryption.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// vectors is testdata/winrm-wrap-*.json, copied from the shared MIT
// vectors: a shell session encrypted by MIT krb5.
type vectors struct {
	EType    int32  `json:"enctype"`
	KeyHex   string `json:"key_hex"`
	Protocol string `json:"protocol"`
	Messages []struct {
		Dir            string `json:"dir"`
		HeaderHex      string `json:"header_hex"`
		DataHex        string `json:"data_hex"`
		OriginalLength int    `json:"original_length"`
		Plaintext      string `json:"plaintext"`
	} `json:"messages"`
}

// vectorSessions loads a vector file and returns the client and server
// sessions of its context.
func vectorSessions(t testing.TB, file string) (v vectors, client, server *encryption.Session) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(v.KeyHex)
	if err != nil {
		t.Fatal(err)
	}
	first := func(dir string) uint64 {
		for _, m := range v.Messages {
			if m.Dir == dir {
				h, _ := hex.DecodeString(m.HeaderHex[:32])
				return binary.BigEndian.Uint64(h[8:])
			}
		}
		t.Fatalf("no %s message", dir)
		return 0
	}
	ctx := gss.SecurityContext{
		AcceptorSubkey: types.EncryptionKey{KeyType: v.EType, KeyValue: key},
		InitiatorSeq:   first("client->server"),
		AcceptorSeq:    first("server->client"),
	}
	serverCtx, clientCtx := ctx, ctx
	clientCtx.Initiator = true
	if client, err = encryption.NewSession(&clientCtx, v.Protocol); err != nil {
		t.Fatal(err)
	}
	if server, err = encryption.NewSession(&serverCtx, v.Protocol); err != nil {
		t.Fatal(err)
	}
	return v, client, server
}

// TestDecryptMITSession: a whole shell session that MIT encrypted, framed
// as on the wire, decrypts message by message on both sides, under both
// protocol strings.
func TestDecryptMITSession(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"winrm-wrap-aes256-mit.json", "winrm-wrap-aes256-mit-kerberos-scheme.json"} {
		v, client, server := vectorSessions(t, file)
		for i, m := range v.Messages {
			h, _ := hex.DecodeString(m.HeaderHex)
			d, _ := hex.DecodeString(m.DataHex)
			body := encryption.Frame(&encryption.Message{Protocol: v.Protocol, Length: m.OriginalLength, Header: h, Data: d})
			receiver := server
			if m.Dir == "server->client" {
				receiver = client
			}
			pt, err := receiver.Decrypt(encryption.ContentType(v.Protocol), body)
			if err != nil || string(pt) != m.Plaintext {
				t.Fatalf("%s message %d: %v", file, i, err)
			}
		}
	}
}

func TestSessionRoundTripAndTampering(t *testing.T) {
	t.Parallel()
	_, client, server := vectorSessions(t, "winrm-wrap-aes256-mit.json")
	envelope := []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>`)

	ct, body, err := client.Encrypt(envelope)
	if err != nil {
		t.Fatal(err)
	}
	m, err := encryption.Parse(ct, body)
	if err != nil || len(m.Header) != 60 || len(m.Data) != len(envelope) || m.Length != len(envelope) {
		t.Fatalf("framing of our message: %v %+v", err, m)
	}
	if got := client.Overhead(len(envelope)); got != len(body)-len(envelope) {
		t.Fatalf("Overhead %d, actual %d", got, len(body)-len(envelope))
	}

	// A wrong Length, a flipped bit and a replay are all tampering; none
	// advances the server's sequence number.
	lying := encryption.Frame(&encryption.Message{Protocol: m.Protocol, Length: m.Length + 1, Header: m.Header, Data: m.Data})
	flipped := bytes.Clone(body)
	flipped[len(flipped)-30] ^= 0x10
	for name, b := range map[string][]byte{"length": lying, "bit": flipped} {
		if _, err := server.Decrypt(ct, b); !errors.Is(err, encryption.ErrTampered) {
			t.Fatalf("%s: %v, want ErrTampered", name, err)
		}
	}
	// The length check comes after a successful unwrap, which advanced
	// the sequence number: that connection is done for. A fresh pair
	// shows the genuine message passing and its replay failing.
	_, client, server = vectorSessions(t, "winrm-wrap-aes256-mit.json")
	ct, body, _ = client.Encrypt(envelope)
	if pt, err := server.Decrypt(ct, body); err != nil || !bytes.Equal(pt, envelope) {
		t.Fatalf("genuine message: %v", err)
	}
	var te *encryption.TamperedError
	if _, err := server.Decrypt(ct, body); !errors.As(err, &te) || !errors.Is(err, gss.ErrSequence) {
		t.Fatalf("replay: %v", err)
	}
	if _, err := server.Decrypt(encryption.SOAPContentType, envelope); !errors.Is(err, encryption.ErrMalformed) {
		t.Fatalf("plaintext: %v", err)
	}
	if _, err := encryption.NewSession(&gss.SecurityContext{}, "application/HTTP-CredSSP-session-encrypted"); err == nil {
		t.Fatal("CredSSP protocol accepted")
	}
}

// FuzzParse: the framing parser never panics, and what it accepts frames
// back to a body that parses to the same message.
func FuzzParse(f *testing.F) {
	f.Add([]byte(wantFrame))
	f.Add([]byte(strings.ReplaceAll(wantFrame, "--Encrypted Boundary", "-- Encrypted Boundary")))
	f.Add([]byte("--Encrypted Boundary\r\n--Encrypted Boundary\r\n"))
	ct := encryption.ContentType(encryption.ProtocolSPNEGO)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := encryption.Parse(ct, body)
		if err != nil {
			if !errors.Is(err, encryption.ErrMalformed) {
				t.Fatalf("unclassified: %v", err)
			}
			return
		}
		again, err := encryption.Parse(ct, encryption.Frame(m))
		if err != nil || again.Length != m.Length || !bytes.Equal(again.Header, m.Header) || !bytes.Equal(again.Data, m.Data) {
			t.Fatalf("re-framed message differs: %v", err)
		}
	})
}

// FuzzDecrypt: a session never panics on hostile bodies, and never
// accepts one it did not get from its peer.
func FuzzDecrypt(f *testing.F) {
	_, client, _ := vectorSessions(f, "winrm-wrap-aes256-mit.json")
	for _, n := range []int{0, 1, 500} {
		_, body, err := client.Encrypt(bytes.Repeat([]byte("<"), n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	ct := encryption.ContentType(encryption.ProtocolSPNEGO)
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, server := vectorSessions(t, "winrm-wrap-aes256-mit.json")
		if _, err := server.Decrypt(ct, body); err != nil && !errors.Is(err, encryption.ErrMalformed) && !errors.Is(err, encryption.ErrTampered) {
			t.Fatalf("unclassified: %v", err)
		}
	})
}

// BenchmarkSession measures Encrypt and Decrypt of a small and a full
// (150 KiB) envelope: wrap token plus multipart framing.
func BenchmarkSession(b *testing.B) {
	for _, size := range []int{1 << 10, 150 << 10} {
		env := bytes.Repeat([]byte("<x/>"), size/4)
		b.Run(fmt.Sprintf("Encrypt/%d", size), func(b *testing.B) {
			_, client, _ := vectorSessions(b, "winrm-wrap-aes256-mit.json")
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := client.Encrypt(env); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Decrypt/%d", size), func(b *testing.B) {
			_, client, server := vectorSessions(b, "winrm-wrap-aes256-mit.json")
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ct, body, err := client.Encrypt(env)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := server.Decrypt(ct, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// opaqueProtector hides a *gss.Sealer behind the interface, as a context
// whose keys are out of reach (Windows SSPI) is seen by NewSessionWith.
type opaqueProtector struct{ s *gss.Sealer }

func (o opaqueProtector) SealParts(pt []byte) ([]byte, []byte, error) { return o.s.SealParts(pt) }
func (o opaqueProtector) OpenParts(h, d []byte) ([]byte, error)       { return o.s.OpenParts(h, d) }

// TestSessionWithProtector: a Session over a Protector other than
// *gss.Sealer frames what it seals exactly as the key-holding path, and
// the peer opens it; tampering is refused the same way.
func TestSessionWithProtector(t *testing.T) {
	t.Parallel()
	v, _, server := vectorSessions(t, "winrm-wrap-aes256-mit.json")
	key, _ := hex.DecodeString(v.KeyHex)
	ctx := &gss.SecurityContext{Initiator: true,
		AcceptorSubkey: types.EncryptionKey{KeyType: v.EType, KeyValue: key}}
	h, _ := hex.DecodeString(v.Messages[0].HeaderHex[:32])
	ctx.InitiatorSeq = binary.BigEndian.Uint64(h[8:])
	for _, m := range v.Messages {
		if m.Dir == "server->client" {
			h, _ := hex.DecodeString(m.HeaderHex[:32])
			ctx.AcceptorSeq = binary.BigEndian.Uint64(h[8:])
			break
		}
	}
	sealer, err := gss.NewSealer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client, err := encryption.NewSessionWith(opaqueProtector{sealer}, v.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	envelope := []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>`)
	ct, body, err := client.Encrypt(envelope)
	if err != nil {
		t.Fatal(err)
	}
	if got := client.Overhead(len(envelope)); got != len(body)-len(envelope) {
		t.Fatalf("Overhead %d, actual %d", got, len(body)-len(envelope))
	}
	if pt, err := server.Decrypt(ct, body); err != nil || !bytes.Equal(pt, envelope) {
		t.Fatalf("server decrypts %q, %v", pt, err)
	}
	ct, reply, err := server.Encrypt([]byte("<reply/>"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(reply)
	flipped[len(flipped)-30] ^= 0x10
	if _, err := client.Decrypt(ct, flipped); !errors.Is(err, encryption.ErrTampered) {
		t.Fatalf("flipped bit: %v", err)
	}
	if pt, err := client.Decrypt(ct, reply); err != nil || string(pt) != "<reply/>" {
		t.Fatalf("client decrypts %q, %v", pt, err)
	}
	if _, err := encryption.NewSessionWith(nil, v.Protocol); err == nil {
		t.Fatal("nil Protector accepted")
	}
}
