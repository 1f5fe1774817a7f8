package ticket_test

import (
	"fmt"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

func ExampleParsePrincipal() {
	name, realm, err := ticket.ParsePrincipal("alice", "EXAMPLE.COM", nametype.KRB_NT_PRINCIPAL)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name.NameString, realm)
	fmt.Println(ticket.PrincipalString(name, realm))

	_, _, err = ticket.ParsePrincipal("alice@A@B", "", nametype.KRB_NT_PRINCIPAL)
	fmt.Println(err)
	// Output:
	// [alice] EXAMPLE.COM
	// alice@EXAMPLE.COM
	// invalid principal name "alice@A@B": more than one @
}

func ExampleParseSPN() {
	name, realm, err := ticket.ParseSPN("HTTP/www.example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q realm=%q\n", name.NameString, realm)
	// Output:
	// ["HTTP" "www.example.com"] realm=""
}

func ExamplePrincipalString() {
	name, realm, _ := ticket.ParsePrincipal(`odd\/name@EXAMPLE.COM`, "", nametype.KRB_NT_PRINCIPAL)
	fmt.Printf("%q\n", name.NameString)
	fmt.Println(ticket.PrincipalString(name, realm))
	// Output:
	// ["odd/name"]
	// odd\/name@EXAMPLE.COM
}

func ExampleTicket_ClientPrincipal() {
	tkt := &ticket.Ticket{ClientRealm: "EXAMPLE.COM"}
	tkt.Client.NameString = []string{"alice"}
	tkt.Ticket.SName.NameString = []string{"HTTP", "www.example.com"}
	tkt.Ticket.Realm = "EXAMPLE.COM"
	fmt.Println(tkt.ClientPrincipal(), "->", tkt.ServicePrincipal())
	// Output:
	// alice@EXAMPLE.COM -> HTTP/www.example.com@EXAMPLE.COM
}
