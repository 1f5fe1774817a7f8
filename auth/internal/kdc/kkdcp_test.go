package kdc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// Vectors made with python3-kdcproxy's pyasn1 definitions (the reference
// KDC proxy): a request naming its realm with a dclocator-hint of 3, and
// the reply encode_proxymessage makes, both around the 5-byte message
// 6a 03 02 01 05.
const (
	pyRequest = "3022a00b0409000000056a03020105a10e1b0c4558414d504c452e54455354a203020103"
	pyReply   = "300da00b0409000000056a03020105"
)

var tinyMsg = []byte{0x6a, 0x03, 0x02, 0x01, 0x05}

func TestProxyMessageMatchesKdcproxy(t *testing.T) {
	req, err := EncodeProxyMessage(ProxyMessage{Message: tinyMsg, Realm: "EXAMPLE.TEST", DCLocatorHint: 3, HasHint: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(req); got != pyRequest {
		t.Errorf("request\n got %s\nwant %s", got, pyRequest)
	}
	rep, err := EncodeProxyMessage(ProxyMessage{Message: tinyMsg})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(rep); got != pyReply {
		t.Errorf("reply\n got %s\nwant %s", got, pyReply)
	}
	for _, v := range []string{pyRequest, pyReply} {
		b, _ := hex.DecodeString(v)
		m, err := DecodeProxyMessage(b)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if !bytes.Equal(m.Message, tinyMsg) {
			t.Errorf("%s: message %x", v, m.Message)
		}
		if v == pyRequest && (m.Realm != "EXAMPLE.TEST" || !m.HasHint || m.DCLocatorHint != 3) {
			t.Errorf("request decoded as %+v", m)
		}
	}
}

func TestProxyMessageMalformed(t *testing.T) {
	good, _ := hex.DecodeString(pyRequest)
	cases := map[string][]byte{
		"empty":                {},
		"not a sequence":       {0x04, 0x00},
		"trailing bytes":       append(append([]byte{}, good...), 0),
		"truncated":            good[:len(good)-1],
		"no kerb-message":      mustHex("3000"),
		"short length prefix":  mustHex("3007a0050403000000"),
		"prefix too large":     mustHex("300da00b0409000000066a03020105"),
		"prefix too small":     mustHex("300da00b0409000000046a03020105"),
		"zero-length message":  mustHex("3008a0060404" + "00000000"),
		"realm not a string":   mustHex("3013a00b0409000000056a03020105a104020201ff"),
		"realm with a newline": mustHex("3016a00b0409000000056a03020105a1071b05410a422e43"),
		"hint too large":       mustHex("3018a00b0409000000056a03020105a209020701000000000000"),
		"unknown field":        mustHex("3012a00b0409000000056a03020105a303020101"),
		"non-minimal length":   mustHex("30810da00b0409000000056a03020105"),
		"oversized":            make([]byte, MaxKKDCPMessage+1),
	}
	for name, in := range cases {
		if _, err := DecodeProxyMessage(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := EncodeProxyMessage(ProxyMessage{}); err == nil {
		t.Error("empty message encoded")
	}
	if _, err := EncodeProxyMessage(ProxyMessage{Message: tinyMsg, Realm: "A B"}); err == nil {
		t.Error("realm with a space encoded")
	}
	if _, err := EncodeProxyMessage(ProxyMessage{Message: tinyMsg, Realm: strings.Repeat("A", 256)}); err == nil {
		t.Error("256-byte realm encoded")
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzDecodeProxyMessage: any input decodes or fails with ErrMalformed,
// and what decodes encodes back to the same bytes (DER is canonical).
func FuzzDecodeProxyMessage(f *testing.F) {
	for _, s := range []string{pyRequest, pyReply, "3000", "300da00b0409000000066a03020105"} {
		f.Add(mustHex(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := DecodeProxyMessage(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		out, err := EncodeProxyMessage(m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip changed\n in %x\nout %x", in, out)
		}
	})
}
