package gss_test

import (
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// FuzzAcceptorAccept feeds hostile initial tokens to an acceptor: it must
// never panic, every error must wrap a sentinel, and nothing but alice may
// come out authenticated. The seeds are genuine tokens in every format, so
// mutations reach the Kerberos messages and not only the framing.
func FuzzAcceptorAccept(f *testing.F) {
	svc := krbtest.NewService(f, spn, realm)
	// No replay cache: a seed must stay acceptable on every run.
	a, err := gss.NewAcceptor(gss.AcceptorConfig{Keytab: svc.Keytab(), ChannelBindings: bindingsA})
	if err != nil {
		f.Fatal(err)
	}
	for _, format := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		tkt := svc.Ticket(f, "alice")
		for _, cfg := range []gss.InitiatorConfig{
			{},
			{Flags: gss.FlagMutual | gss.FlagSequence, ChannelBindings: bindingsA},
			{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagDelegate, Delegation: krbCredFor(f, forwardedTGT(f, "alice"), tkt), ChannelBindings: bindingsA},
		} {
			cfg.Format = format
			_, tok := newInitiator(f, svc, cfg)
			f.Add(tok)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="))
	f.Fuzz(func(t *testing.T, token []byte) {
		acc, err := a.Accept(token)
		if err != nil {
			if !isClassified(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if acc.Principal != "alice@"+realm || acc.Context == nil {
			t.Fatalf("accepted %q", acc.Principal)
		}
	})
}

// FuzzInitiatorAccept feeds hostile reply tokens to initiators. All
// initiators share ticket and clock, so the seeded AP-REPs verify and
// mutations reach the decrypted part too.
func FuzzInitiatorAccept(f *testing.F) {
	svc := krbtest.NewService(f, spn, realm)
	cfg := gss.InitiatorConfig{Ticket: svc.Ticket(f, "alice"), Flags: gss.FlagMutual, Now: fixedClock(time.Now())}
	a := newAcceptor(f, svc, func(c *gss.AcceptorConfig) { c.ReplayStore = nil })
	for _, format := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		cfg := cfg
		cfg.Format = format
		_, tok := newInitiator(f, svc, cfg)
		acc, err := a.Accept(tok)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(acc.ReplyToken)
	}
	krbErr := krbErrorToken(f, 37, "clock skew")
	f.Add(krbErr)
	f.Add(negTokenResp(2, krbErr))
	f.Add(negTokenResp(0, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, reply []byte) {
		init, _, err := gss.NewInitiator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := init.Accept(reply); err != nil {
			if !isClassified(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			if init.Complete() {
				t.Fatal("complete after an error")
			}
			return
		}
		if !init.Complete() || init.SecurityContext() == nil {
			t.Fatal("Accept succeeded without completing the context")
		}
	})
}

// FuzzParseKRBCred feeds hostile KRB-CRED messages to the parser with the
// key of the seed: no panic, every error classified, and whatever parses
// has a usable session key.
func FuzzParseKRBCred(f *testing.F) {
	svc := krbtest.NewService(f, spn, realm)
	tkt := svc.Ticket(f, "alice")
	f.Add(krbCredFor(f, forwardedTGT(f, "alice"), tkt))
	f.Add([]byte{0x76, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		tkts, err := gss.ParseKRBCred(b, tkt.SessionKey)
		if err != nil {
			if !isClassified(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, c := range tkts {
			if len(c.SessionKey.KeyValue) == 0 {
				t.Fatal("a credential without a session key")
			}
		}
	})
}
