package gss_test

import (
	"fmt"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/gss"
)

func ExampleSealer() {
	// In real use the contexts come from Initiator.SecurityContext and
	// Accepted.Context; here both ends share a fixed test key.
	key := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: make([]byte, 32)}
	client, _ := gss.NewSealer(&gss.SecurityContext{Initiator: true, AcceptorSubkey: key, InitiatorSeq: 7, AcceptorSeq: 900})
	server, _ := gss.NewSealer(&gss.SecurityContext{AcceptorSubkey: key, InitiatorSeq: 7, AcceptorSeq: 900})

	token, _ := client.Seal([]byte("<s:Envelope/>"))
	fmt.Printf("header %x, %d bytes before the data\n", token[:8], len(token)-len("<s:Envelope/>"))
	plaintext, err := server.Open(token)
	fmt.Println(string(plaintext), err)
	_, err = server.Open(token) // the same token again
	fmt.Println(err)
	// Output:
	// header 050406ff0000001c, 60 bytes before the data
	// <s:Envelope/> <nil>
	// gss: per-message token out of sequence: sequence number 7, expected 8
}
