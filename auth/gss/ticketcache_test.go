package gss_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// The Acceptor keeps the decryption of tickets it has accepted (see
// ticketcache.go); these tests hold it to giving exactly what a fresh
// decryption gives, and to checking on every request what depends on the
// request or the clock.

// TestTicketCacheSameOutcome: the second token on one ticket (served from
// the cache) is accepted with the same identity and ticket as the first
// and as a fresh Acceptor decrypting it, and its context works.
func TestTicketCacheSameOutcome(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tkt := svc.Ticket(t, "alice")
	a := newAcceptor(t, svc, nil)
	var got []*gss.Accepted
	for range 2 {
		ini, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual})
		acc, err := a.Accept(tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := ini.Accept(acc.ReplyToken); err != nil {
			t.Fatalf("mutual authentication with a cached ticket: %v", err)
		}
		checkContexts(t, ini.SecurityContext(), acc.Context, tkt.SessionKey.KeyValue, true)
		got = append(got, acc)
	}
	_, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual})
	fresh, err := newAcceptor(t, svc, nil).Accept(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range got {
		if acc.Principal != "alice@"+realm || !reflect.DeepEqual(acc.Client, fresh.Client) {
			t.Errorf("client %s %v, want alice", acc.Principal, acc.Client)
		}
		if !reflect.DeepEqual(acc.Ticket, fresh.Ticket) {
			t.Errorf("ticket\n got %+v\nwant %+v", acc.Ticket, fresh.Ticket)
		}
	}
}

// TestTicketCacheKeysAreCopies: a handler that wipes the session key it
// was given (good hygiene) does not break the next request on the ticket.
func TestTicketCacheKeysAreCopies(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tkt := svc.Ticket(t, "alice")
	a := newAcceptor(t, svc, nil)
	for i := range 3 {
		ini, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual})
		acc, err := a.Accept(tok)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if err := ini.Accept(acc.ReplyToken); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		checkContexts(t, ini.SecurityContext(), acc.Context, tkt.SessionKey.KeyValue, true)
		if !bytes.Equal(acc.Ticket.DecryptedEncPart.Key.KeyValue, tkt.SessionKey.KeyValue) {
			t.Fatalf("request %d: ticket session key %x", i, acc.Ticket.DecryptedEncPart.Key.KeyValue)
		}
		clear(acc.Ticket.DecryptedEncPart.Key.KeyValue)
		clear(acc.Context.SessionKey.KeyValue)
	}
}

// TestTicketCacheRelabelledTicket: a ticket accepted for one service,
// its clear-text service name changed to another service of the same
// keytab, must not decrypt: the cache is keyed by the whole ticket, so
// the relabelled one is decrypted with the other service's key.
func TestTicketCacheRelabelledTicket(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	other := krbtest.NewService(t, "HTTP/other.example.test", realm)
	two := *svc.Keytab()
	two.Entries = append(append(two.Entries[:0:0], svc.Keytab().Entries...), other.Keytab().Entries...)
	a := newAcceptor(t, svc, func(c *gss.AcceptorConfig) { c.Keytab = &two })
	tkt := svc.Ticket(t, "alice")
	_, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt})
	if _, err := a.Accept(tok); err != nil {
		t.Fatal(err)
	}
	relabelled := *tkt
	relabelled.Ticket.SName = other.Principal()
	_, tok = newInitiator(t, svc, gss.InitiatorConfig{Ticket: &relabelled})
	acc, err := a.Accept(tok)
	if !errors.Is(err, gss.ErrIntegrity) {
		t.Fatalf("relabelled ticket: %v (accepted for %v), want ErrIntegrity", err, acc)
	}
}

// TestTicketCacheClockChecks: a cached ticket is refused once it has
// expired, as an uncached one is, and a stale authenticator on a cached
// ticket is still a clock-skew error.
func TestTicketCacheClockChecks(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	start := time.Now()
	tkt := svc.Ticket(t, "alice", krbtest.WithStart(start), krbtest.WithLifetime(time.Hour))
	now := start
	a := newAcceptor(t, svc, func(c *gss.AcceptorConfig) { c.Now = func() time.Time { return now } })
	_, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt})
	if _, err := a.Accept(tok); err != nil {
		t.Fatal(err)
	}
	now = start.Add(10 * time.Minute)
	_, tok = newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt}) // authenticator from start
	if _, err := a.Accept(tok); !errors.Is(err, gss.ErrClockSkew) {
		t.Fatalf("stale authenticator on a cached ticket: %v, want ErrClockSkew", err)
	}
	now = start.Add(time.Hour + 6*time.Minute)
	_, tok = newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt})
	if _, err := a.Accept(tok); !errors.Is(err, gss.ErrTicketExpired) {
		t.Fatalf("expired cached ticket: %v, want ErrTicketExpired", err)
	}
}
