package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// TestUsesDefaultCredentials: only a transport given no credential
// option is the logged-on user's (SSPI on Windows); every explicit option
// keeps the pure-Go path.
func TestUsesDefaultCredentials(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Option
		want bool
	}{
		{"none", nil, true},
		{"mutual and delegation only", []Option{WithMutualAuthentication(MutualOptional), WithDelegation(DelegatePolicy)}, true},
		{"principal", []Option{WithPrincipal("alice@R")}, false},
		{"password", []Option{WithPrincipal("alice@R"), WithPassword("pw")}, false},
		{"keytab", []Option{WithPrincipal("alice@R"), WithKeytab("/k")}, false},
		{"default keytab", []Option{WithKeytab("")}, false},
		{"cache", []Option{WithCCache("FILE:/tmp/cc")}, false},
		{"source", []Option{WithCredentials(nilSource{})}, false},
	} {
		tr, err := NewTransport(nil, c.opts...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := tr.cfg.usesDefaultCredentials(); got != c.want {
			t.Errorf("%s: usesDefaultCredentials %v, want %v", c.name, got, c.want)
		}
		if tr.useSSPI() && !hasSSPI {
			t.Errorf("%s: SSPI chosen without SSPI", c.name)
		}
	}
}

// nilSource is a credentials.Source that has no tickets.
type nilSource struct{}

func (nilSource) ServiceTicket(context.Context, string) (*ticket.Ticket, error) {
	return nil, errors.New("no ticket")
}
