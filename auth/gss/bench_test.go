package gss_test

import (
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// BenchmarkAccept measures the acceptor's per-request work on a SPNEGO
// token asking for mutual authentication: parsing, ticket and
// authenticator decryption, checks, and the AP-REP. No replay cache: its
// cost is measured with the cache itself.
func BenchmarkAccept(b *testing.B) {
	for _, et := range []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA384_192} {
		b.Run(etypeName(et), func(b *testing.B) {
			svc := krbtest.NewService(b, "HTTP/bench.example.test", "EXAMPLE.TEST")
			acc := newAcceptor(b, svc, func(c *gss.AcceptorConfig) { c.ReplayCache = nil })
			tkt := svc.Ticket(b, "alice", krbtest.WithEType(et))
			_, tok, err := gss.NewInitiator(gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagSequence})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := acc.Accept(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyAPRep measures the client's check of the acceptor's
// reply (AP-REP decryption and comparison), what mutual authentication
// adds to a request.
func BenchmarkVerifyAPRep(b *testing.B) {
	svc := krbtest.NewService(b, "HTTP/bench.example.test", "EXAMPLE.TEST")
	acc := newAcceptor(b, svc, nil)
	tkt := svc.Ticket(b, "alice")
	cfg := gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagSequence}
	type pair struct {
		init  *gss.Initiator
		reply []byte
	}
	// Each Initiator accepts once: make a batch and reuse it round-robin
	// with fresh Initiators outside the timed part.
	const batch = 256
	pairs := make([]pair, batch)
	toks := make([][]byte, batch)
	for i := range pairs {
		_, tok, err := gss.NewInitiator(cfg)
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	refill := func() {
		for i := range pairs {
			init, tok, err := gss.NewInitiator(cfg)
			if err != nil {
				b.Fatal(err)
			}
			a, err := acc.Accept(tok)
			if err != nil {
				b.Fatal(err)
			}
			pairs[i] = pair{init, a.ReplyToken}
		}
	}
	refill()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == batch {
			b.StopTimer()
			refill()
			b.StartTimer()
			i = 0
		}
		if err := pairs[i].init.Accept(pairs[i].reply); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func etypeName(et int32) string {
	switch et {
	case etypeID.AES256_CTS_HMAC_SHA1_96:
		return "aes256-sha1"
	case etypeID.AES256_CTS_HMAC_SHA384_192:
		return "aes256-sha384"
	}
	return "etype"
}
