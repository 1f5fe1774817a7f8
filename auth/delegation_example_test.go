package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/jcmturner/gokrb5/v8/iana/flags"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// exampleTGTSource forges alice's tickets: service tickets, and the
// forwarded TGT a KDC would issue for delegation. Real programs use the
// credential cache of `kinit -f`, or WithPassword / WithKeytab, which ask
// for a forwardable TGT themselves when delegation is on.
type exampleTGTSource struct{ svc, krbtgt *krbtest.Service }

func (s exampleTGTSource) ServiceTicket(context.Context, string) (*ticket.Ticket, error) {
	return s.svc.NewTicket("alice")
}

func (s exampleTGTSource) TGT(context.Context) (*ticket.Ticket, error) {
	return s.krbtgt.NewTicket("alice", krbtest.WithFlags(flags.Forwardable))
}

func (s exampleTGTSource) ForwardedTGT(context.Context) (*ticket.Ticket, error) {
	return s.krbtgt.NewTicket("alice", krbtest.WithFlags(flags.Forwardable, flags.Forwarded))
}

func ExampleWithDelegation() {
	conf, err := krb5conf.Parse("[libdefaults]\n default_realm = EXAMPLE.TEST\n rdns = false\n dns_canonicalize_hostname = false\n")
	if err != nil {
		panic(err)
	}
	svc, err := krbtest.New("HTTP/127.0.0.1", "EXAMPLE.TEST")
	if err != nil {
		panic(err)
	}
	krbtgt, err := krbtest.New("krbtgt/EXAMPLE.TEST", "EXAMPLE.TEST")
	if err != nil {
		panic(err)
	}
	// The first hop: a server that could call further services as the user
	// with auth.NewClient(auth.WithCredentials(id.Credentials)).
	a, err := acceptor.New(svc.Keytab(), acceptor.WithConfig(conf))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		if id.Credentials != nil {
			fmt.Fprintf(w, "%s delegated; the server can act as %s", id.Principal, id.Credentials.Principal())
		}
	})))
	defer srv.Close()

	client, err := auth.NewClient(auth.WithCredentials(exampleTGTSource{svc, krbtgt}), auth.WithConfig(conf),
		auth.WithDelegation(auth.DelegateAlways)) // or DelegatePolicy: only to OK-AS-DELEGATE services
	if err != nil {
		panic(err)
	}
	get(client, srv.URL)
	// Output: 200 alice@EXAMPLE.TEST delegated; the server can act as alice@EXAMPLE.TEST
}

func ExampleParseDelegationPolicy() {
	// For command-line flags such as krbcurl's --delegate=policy.
	p, err := auth.ParseDelegationPolicy("policy")
	fmt.Println(p, err)
	// Output: policy <nil>
}
