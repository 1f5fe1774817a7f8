package encryption_test

import (
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/wsman/encryption"
)

func ExampleFrame() {
	body := encryption.Frame(&encryption.Message{
		Protocol: encryption.ProtocolSPNEGO,
		Length:   5,
		Header:   []byte("HDR"),
		Data:     []byte("data!"),
	})
	for line := range strings.Lines(string(body)) {
		fmt.Printf("%q\n", line)
	}
	// Output:
	// "--Encrypted Boundary\r\n"
	// "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
	// "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=5\r\n"
	// "--Encrypted Boundary\r\n"
	// "\tContent-Type: application/octet-stream\r\n"
	// "\x03\x00\x00\x00HDRdata!--Encrypted Boundary--\r\n"
}

func ExampleSession() {
	// Both ends of a context, as the client's initiator and the server's
	// acceptor would hold them (a fixed test key here).
	key := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: make([]byte, 32)}
	client := &gss.SecurityContext{Initiator: true, AcceptorSubkey: key, InitiatorSeq: 1, AcceptorSeq: 100}
	server := &gss.SecurityContext{AcceptorSubkey: key, InitiatorSeq: 1, AcceptorSeq: 100}
	cs, _ := encryption.NewSession(client, encryption.ProtocolSPNEGO)
	ss, _ := encryption.NewSession(server, encryption.ProtocolSPNEGO)

	contentType, body, _ := cs.Encrypt([]byte("<s:Envelope/>"))
	envelope, err := ss.Decrypt(contentType, body)
	fmt.Println(contentType)
	fmt.Println(string(envelope), err)
	// Output:
	// multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"
	// <s:Envelope/> <nil>
}

func ExampleNewSessionWith() {
	// A gss.Protector seals and opens without handing out keys: on
	// Windows the logged-on user's SSPI context, which module auth hands
	// out, is one. Here both ends hold keys.
	key := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: make([]byte, 32)}
	clientSealer, _ := gss.NewSealer(&gss.SecurityContext{Initiator: true, AcceptorSubkey: key, InitiatorSeq: 1, AcceptorSeq: 100})
	var protector gss.Protector = clientSealer
	cs, _ := encryption.NewSessionWith(protector, encryption.ProtocolKerberos)
	ss, _ := encryption.NewSession(&gss.SecurityContext{AcceptorSubkey: key, InitiatorSeq: 1, AcceptorSeq: 100}, encryption.ProtocolKerberos)

	contentType, body, _ := cs.Encrypt([]byte("<s:Envelope/>"))
	envelope, err := ss.Decrypt(contentType, body)
	fmt.Println(string(envelope), err)
	// Output:
	// <s:Envelope/> <nil>
}
