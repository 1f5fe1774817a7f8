package gss_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// forwardedTGT forges what a KDC returns for a FORWARDED TGS request: a
// krbtgt ticket for client flagged forwardable and forwarded.
func forwardedTGT(t testing.TB, client string) *ticket.Ticket {
	t.Helper()
	krbtgt := krbtest.NewService(t, "krbtgt/"+realm, realm)
	return krbtgt.Ticket(t, client, krbtest.WithFlags(flags.Forwardable, flags.Forwarded))
}

// krbCredFor builds the KRB-CRED that delegates tgt over a context on
// tkt, as package auth does.
func krbCredFor(t testing.TB, tgt, tkt *ticket.Ticket) []byte {
	t.Helper()
	b, err := gss.MarshalKRBCred(tgt, tkt.SessionKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameCredential compares everything a delegated credential must keep.
func sameCredential(t *testing.T, got, want *ticket.Ticket) {
	t.Helper()
	wantTkt, _ := want.Ticket.Marshal()
	gotTkt, _ := got.Ticket.Marshal()
	switch {
	case !bytes.Equal(gotTkt, wantTkt):
		t.Error("ticket differs")
	case got.SessionKey.KeyType != want.SessionKey.KeyType || !bytes.Equal(got.SessionKey.KeyValue, want.SessionKey.KeyValue):
		t.Error("session key differs")
	case !got.Client.Equal(want.Client) || got.ClientRealm != want.ClientRealm:
		t.Errorf("client %v@%s, want %v@%s", got.Client, got.ClientRealm, want.Client, want.ClientRealm)
	case !bytes.Equal(got.Flags.Bytes, want.Flags.Bytes):
		t.Errorf("flags %x, want %x", got.Flags.Bytes, want.Flags.Bytes)
	case !got.AuthTime.Equal(want.AuthTime) || !got.StartTime.Equal(want.StartTime) || !got.EndTime.Equal(want.EndTime):
		t.Errorf("times %v %v %v, want %v %v %v", got.AuthTime, got.StartTime, got.EndTime, want.AuthTime, want.StartTime, want.EndTime)
	}
}

func TestKRBCredRoundTrip(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tgt := forwardedTGT(t, "alice")
	for _, et := range krbtest.ETypes {
		// The KRB-CRED takes the enctype of the service ticket's session
		// key, whatever the TGT's.
		tkt := svc.Ticket(t, "alice", krbtest.WithEType(et))
		b := krbCredFor(t, tgt, tkt)
		if b[0] != 0x76 { // [APPLICATION 22]
			t.Fatalf("enctype %d: KRB-CRED starts with %#x", et, b[0])
		}
		got, err := gss.ParseKRBCred(b, tkt.SessionKey)
		if err != nil {
			t.Fatalf("enctype %d: %v", et, err)
		}
		if len(got) != 1 {
			t.Fatalf("enctype %d: %d tickets", et, len(got))
		}
		sameCredential(t, got[0], tgt)
	}
}

func TestParseKRBCredKeys(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tgt := forwardedTGT(t, "alice")
	tkt := svc.Ticket(t, "alice")
	other := svc.Ticket(t, "alice").SessionKey
	b := krbCredFor(t, tgt, tkt)

	// The right key is found whatever its place among the candidates.
	if _, err := gss.ParseKRBCred(b, other, tkt.SessionKey); err != nil {
		t.Fatalf("second key: %v", err)
	}
	if _, err := gss.ParseKRBCred(b, other); !errors.Is(err, gss.ErrIntegrity) {
		t.Fatalf("wrong key: %v, want ErrIntegrity", err)
	}
	if _, err := gss.ParseKRBCred(b); !errors.Is(err, gss.ErrIntegrity) {
		t.Fatalf("no key: %v, want ErrIntegrity", err)
	}
	aes128 := svc.Ticket(t, "alice", krbtest.WithEType(etypeID.AES128_CTS_HMAC_SHA1_96)).SessionKey
	if _, err := gss.ParseKRBCred(b, aes128); !errors.Is(err, gss.ErrIntegrity) {
		t.Fatalf("key of another enctype: %v, want ErrIntegrity", err)
	}
}

// TestParseKRBCredTruncated: every prefix and single-byte corruption of a
// KRB-CRED is refused with a classified error, never a panic.
func TestParseKRBCredTruncated(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tkt := svc.Ticket(t, "alice")
	b := krbCredFor(t, forwardedTGT(t, "alice"), tkt)
	for n := range len(b) {
		if _, err := gss.ParseKRBCred(b[:n], tkt.SessionKey); !errors.Is(err, gss.ErrMalformedToken) {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x5a
		if _, err := gss.ParseKRBCred(c, tkt.SessionKey); err == nil {
			// A flip inside the unencrypted ticket's ciphertext still
			// parses: the ticket is opaque to the receiver.
			continue
		} else if !isClassified(err) {
			t.Fatalf("byte %d flipped: unclassified %v", i, err)
		}
	}
}

func TestMarshalKRBCredErrors(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tkt := svc.Ticket(t, "alice")
	if _, err := gss.MarshalKRBCred(nil, tkt.SessionKey); err == nil {
		t.Error("nil ticket accepted")
	}
	bad := *forwardedTGT(t, "alice")
	bad.SessionKey = types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: []byte{1}}
	if _, err := gss.MarshalKRBCred(&bad, tkt.SessionKey); err == nil {
		t.Error("short session key accepted")
	}
	if _, err := gss.MarshalKRBCred(forwardedTGT(t, "alice"), types.EncryptionKey{KeyType: 999}); err == nil {
		t.Error("unknown enctype accepted")
	}
}

func TestDelegation(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	tgt := forwardedTGT(t, "alice")
	for _, format := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		tkt := svc.Ticket(t, "alice")
		krbCred := krbCredFor(t, tgt, tkt)
		init, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagDelegate | gss.FlagMutual, Delegation: krbCred, Format: format})
		acc, err := newAcceptor(t, svc, nil).Accept(tok)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(acc.Delegation, krbCred) || acc.Flags&gss.FlagDelegate == 0 || acc.DelegatedTicket == nil {
			t.Fatalf("delegation %d bytes, flags %v, ticket %v", len(acc.Delegation), acc.Flags, acc.DelegatedTicket)
		}
		sameCredential(t, acc.DelegatedTicket, tgt)
		if err := init.Accept(acc.ReplyToken); err != nil {
			t.Fatal(err)
		}
	}

	// FlagDelegate with nothing to delegate is dropped, as MIT does.
	_, tok := newInitiator(t, svc, gss.InitiatorConfig{Flags: gss.FlagDelegate})
	acc, err := newAcceptor(t, svc, nil).Accept(tok)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Flags&gss.FlagDelegate != 0 || acc.Delegation != nil || acc.DelegatedTicket != nil {
		t.Fatalf("flags %v delegation %x", acc.Flags, acc.Delegation)
	}
}

// TestDelegationRefused: a delegation the acceptor cannot read, or one
// that hands over someone else's credentials, fails the whole context as
// in MIT, before the replay cache records it.
func TestDelegationRefused(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	for name, c := range map[string]struct {
		krbCred func(tkt *ticket.Ticket) []byte
		want    error
	}{
		"not a KRB-CRED": {func(*ticket.Ticket) []byte { return bytes.Repeat([]byte{0x76, 0x82}, 70) }, gss.ErrMalformedToken},
		"other key": {func(*ticket.Ticket) []byte {
			return krbCredFor(t, forwardedTGT(t, "alice"), svc.Ticket(t, "alice"))
		}, gss.ErrIntegrity},
		"bob's TGT": {func(tkt *ticket.Ticket) []byte {
			return krbCredFor(t, forwardedTGT(t, "bob"), tkt)
		}, gss.ErrMalformedToken},
		"other realm": {func(tkt *ticket.Ticket) []byte {
			return krbCredFor(t, forwardedTGT(t, "alice@OTHER.TEST"), tkt)
		}, gss.ErrMalformedToken},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tkt := svc.Ticket(t, "alice")
			_, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagDelegate, Delegation: c.krbCred(tkt)})
			a := newAcceptor(t, svc, nil)
			if _, err := a.Accept(tok); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

// TestMITAcceptsOurDelegation: MIT's acceptor decrypts our KRB-CRED and
// offers the forwarded TGT as delegated credentials of alice.
func TestMITAcceptsOurDelegation(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	env := []string{"KRB5_CONFIG=" + krbtest.Krb5Conf(t, realm), "KRB5_KTNAME=" + svc.KeytabFile(t)}
	for _, format := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		t.Run(format.String(), func(t *testing.T) {
			t.Parallel()
			tkt := svc.Ticket(t, "alice")
			tgt := forwardedTGT(t, "alice")
			_, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagDelegate | gss.FlagMutual, Format: format, Delegation: krbCredFor(t, tgt, tkt)})
			m := startMIT(t, env, "accept", "-", "-", "-", "0")
			m.send(tok)
			r := m.result()
			if r.Error != "" || !r.Complete {
				m.failf("MIT refused our delegating token: %s %s", r.Kind, r.Error)
			}
			if r.Flags&mitDeleg == 0 || r.Delegated != "alice@"+realm {
				m.failf("MIT flags %#x, delegated credentials %q; want the delegation flag and alice's", r.Flags, r.Delegated)
			}
			if want := tgt.EndTime.Unix() - time.Now().Unix(); r.DelegatedLifetime <= 0 || r.DelegatedLifetime > want+5 {
				t.Errorf("delegated lifetime %ds, want about %ds", r.DelegatedLifetime, want)
			}
		})
	}
}
