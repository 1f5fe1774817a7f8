package gss_test

import (
	"encoding/base64"
	"fmt"
	"log"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// A complete mutual authentication. krbtest stands in for the KDC: it
// makes the service's keytab and forges alice's service ticket, which a
// credentials.Source would otherwise provide.
func ExampleAcceptor_Accept() {
	svc, err := krbtest.New("HTTP/www.example.test", "EXAMPLE.TEST")
	if err != nil {
		log.Fatal(err)
	}
	ticket, err := svc.NewTicket("alice")
	if err != nil {
		log.Fatal(err)
	}

	// Client: the initial token, sent as "Authorization: Negotiate ...".
	initiator, token, err := gss.NewInitiator(gss.InitiatorConfig{
		Ticket: ticket,
		Flags:  gss.FlagMutual | gss.FlagSequence,
	})
	if err != nil {
		log.Fatal(err)
	}
	header := "Negotiate " + base64.StdEncoding.EncodeToString(token)

	// Server: verify it against the keytab, remembering authenticators in
	// memory so that a captured token cannot be replayed.
	server, err := gss.NewAcceptor(gss.AcceptorConfig{
		Keytab:      svc.Keytab(),
		ReplayStore: acceptor.NewMemoryReplayStore(0),
	})
	if err != nil {
		log.Fatal(err)
	}
	received, _ := base64.StdEncoding.DecodeString(header[len("Negotiate "):])
	accepted, err := server.Accept(received)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("server: authenticated", accepted.Principal, "flags", accepted.Flags)

	// Client: verify the reply, sent back as "WWW-Authenticate: Negotiate ...".
	if err := initiator.Accept(accepted.ReplyToken); err != nil {
		log.Fatal(err)
	}
	fmt.Println("client: server authenticated:", initiator.Complete())
	// Output:
	// server: authenticated alice@EXAMPLE.TEST flags mutual|sequence
	// client: server authenticated: true
}
