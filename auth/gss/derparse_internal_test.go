package gss

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// parsersAgree decodes the AP-REQ of an initial token, its ticket (with
// the service key from kt) and its authenticator with this package's
// decoders and with gokrb5's Unmarshal, and fails unless both give the
// same structures. It returns the ticket's and the session key's enctypes.
func parsersAgree(t *testing.T, tok []byte, kt *keytab.Keytab) (ticketEType, sessionEType int32) {
	t.Helper()
	in, err := parseInitialToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseAPReq(in.krb5.msg)
	if err != nil {
		t.Fatal(err)
	}
	var want messages.APReq
	if err := want.Unmarshal(in.krb5.msg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AP-REQ:\n got %+v\nwant %+v", got, want)
	}
	key, _, err := kt.GetEncryptionKey(want.Ticket.SName, want.Ticket.Realm, want.Ticket.EncPart.KVNO, want.Ticket.EncPart.EType)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := newCryptoKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ck.decrypt(want.Ticket.EncPart, keyusage.KDC_REP_TICKET)
	if err != nil {
		t.Fatal(err)
	}
	gotE, err := parseEncTicketPart(pt)
	if err != nil {
		t.Fatal(err)
	}
	var wantE messages.EncTicketPart
	if err := wantE.Unmarshal(pt); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotE, wantE) {
		t.Fatalf("EncTicketPart:\n got %+v\nwant %+v", gotE, wantE)
	}
	sk, err := newCryptoKey(wantE.Key)
	if err != nil {
		t.Fatal(err)
	}
	apt, err := sk.decrypt(want.EncryptedAuthenticator, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		t.Fatal(err)
	}
	gotA, err := parseAuthenticator(apt)
	if err != nil {
		t.Fatal(err)
	}
	var wantA types.Authenticator
	if err := wantA.Unmarshal(apt); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotA, wantA) {
		t.Fatalf("Authenticator:\n got %+v\nwant %+v", gotA, wantA)
	}
	// Given the ticket's client, the decoder shares its strings and still
	// agrees; given another client, it decodes the authenticator's own.
	for _, like := range []types.PrincipalName{wantE.CName, {NameString: []string{"mallory"}}} {
		gotA, err = parseAuthenticatorFor(apt, like, wantE.CRealm+"x")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotA, wantA) {
			t.Fatalf("Authenticator like %v:\n got %+v\nwant %+v", like, gotA, wantA)
		}
	}
	if gotA, err = parseAuthenticatorFor(apt, wantE.CName, wantE.CRealm); err != nil || !reflect.DeepEqual(gotA, wantA) {
		t.Fatalf("Authenticator like the ticket's client: %v\n got %+v\nwant %+v", err, gotA, wantA)
	}
	return want.Ticket.EncPart.EType, wantE.Key.KeyType
}

// The decoders agree with gokrb5 on tokens of every enctype, with channel
// bindings (an authorization-data entry) and in both formats.
func TestParsersAgreeWithGokrb5(t *testing.T) {
	t.Parallel()
	for _, et := range []int32{etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.RC4_HMAC} {
		svc := krbtest.NewService(t, "HTTP/oracle.example.test", "EXAMPLE.TEST")
		tkt := svc.Ticket(t, "alice", krbtest.WithEType(et))
		for _, cfg := range []InitiatorConfig{
			{Ticket: tkt, Flags: FlagMutual | FlagSequence},
			{Ticket: tkt, Format: FormatKRB5, ChannelBindings: []byte("tls-server-end-point:x")},
		} {
			_, tok, err := NewInitiator(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if te, se := parsersAgree(t, tok, svc.Keytab()); te != et || se != et {
				t.Fatalf("enctypes %d %d, want %d", te, se, et)
			}
		}
	}
}

// The decoders agree with gokrb5 on tickets issued by MIT's KDC to
// services with AES256, AES128 and RC4 keys (session keys of the same
// enctype).
func TestParsersAgreeOnMITTickets(t *testing.T) {
	t.Parallel()
	r := kdctest.Start(t)
	if err := r.AddPrincipal("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	ccache := filepath.Join(t.TempDir(), "krb5cc")
	r.Kinit(t, "alice", "FILE:"+ccache)
	kadmin := "/usr/sbin/kadmin.local"
	if _, err := os.Stat(kadmin); err != nil {
		kadmin = "kadmin.local"
	}
	conf, err := krb5conf.LoadFiles(r.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	src, err := credentials.NewCCacheSource(conf, "FILE:"+ccache, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		enctype string
		et      int32
	}{
		{"aes256-cts-hmac-sha1-96", etypeID.AES256_CTS_HMAC_SHA1_96},
		{"aes128-cts-hmac-sha1-96", etypeID.AES128_CTS_HMAC_SHA1_96},
		{"arcfour-hmac", etypeID.RC4_HMAC},
	} {
		spn := "HTTP/" + c.enctype + ".krbhttp.test"
		if out, err := r.Run(kadmin, "-r", r.Realm, "-q", "addprinc -randkey -e "+c.enctype+":normal "+r.Principal(spn)); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		path, err := r.Keytab(spn)
		if err != nil {
			t.Fatal(err)
		}
		kt, err := keytab.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		tkt, err := src.ServiceTicket(context.Background(), spn)
		if err != nil {
			t.Fatal(err)
		}
		checkMITTicket(t, tkt, kt, c.et)
	}
}

// checkMITTicket: an AP-REQ made with an MIT ticket decodes as gokrb5
// decodes it, an acceptor with the service's keytab accepts it, and its
// AP-REP verifies.
func checkMITTicket(t *testing.T, tkt *ticket.Ticket, kt *keytab.Keytab, et int32) {
	t.Helper()
	init, tok, err := NewInitiator(InitiatorConfig{Ticket: tkt, Flags: FlagMutual})
	if err != nil {
		t.Fatal(err)
	}
	if te, _ := parsersAgree(t, tok, kt); te != et {
		t.Fatalf("ticket enctype %d, want %d", te, et)
	}
	acc, err := NewAcceptor(AcceptorConfig{Keytab: kt})
	if err != nil {
		t.Fatal(err)
	}
	a, err := acc.Accept(tok)
	if err != nil {
		t.Fatalf("enctype %d: %v", et, err)
	}
	if err := init.Accept(a.ReplyToken); err != nil {
		t.Fatalf("enctype %d: AP-REP: %v", et, err)
	}
}

// FuzzDERParsers: on any input the decoders must not panic, and whatever
// they accept gokrb5 must accept too, with the same result (they may
// refuse more). The seeds are a genuine AP-REQ and its decrypted ticket
// and authenticator, with channel bindings.
func FuzzDERParsers(f *testing.F) {
	svc := krbtest.NewService(f, "HTTP/oracle.example.test", "EXAMPLE.TEST")
	for _, et := range []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.RC4_HMAC} {
		tkt := svc.Ticket(f, "alice", krbtest.WithEType(et))
		_, tok, err := NewInitiator(InitiatorConfig{Ticket: tkt, Format: FormatKRB5, Flags: FlagMutual, ChannelBindings: []byte("cb")})
		if err != nil {
			f.Fatal(err)
		}
		in, err := parseInitialToken(tok)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(in.krb5.msg)
		r, _ := parseAPReq(in.krb5.msg)
		key, _, _ := svc.Keytab().GetEncryptionKey(r.Ticket.SName, r.Ticket.Realm, r.Ticket.EncPart.KVNO, r.Ticket.EncPart.EType)
		ck, _ := newCryptoKey(key)
		pt, err := ck.decrypt(r.Ticket.EncPart, keyusage.KDC_REP_TICKET)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pt)
		sk, _ := newCryptoKey(tkt.SessionKey)
		apt, err := sk.decrypt(r.EncryptedAuthenticator, keyusage.AP_REQ_AUTHENTICATOR)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(apt)
		rep, err := marshalAPRep(sk, time.Now().UTC().Truncate(time.Second), 1234, tkt.SessionKey, 7, FormatKRB5, nil)
		if err != nil {
			f.Fatal(err)
		}
		krb, err := parseKRB5(rep)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(krb.msg)
		ap, err := parseAPRep(krb.msg)
		if err != nil {
			f.Fatal(err)
		}
		ept, err := sk.decrypt(ap.EncPart, keyusage.AP_REP_ENCPART)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ept)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := parseAPReq(b); err == nil {
			var want messages.APReq
			if err := guard("AP-REQ", func() error { return want.Unmarshal(b) }); err != nil {
				t.Fatalf("AP-REQ accepted here, refused by gokrb5: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("AP-REQ:\n got %+v\nwant %+v", got, want)
			}
		}
		if got, err := parseEncTicketPart(b); err == nil {
			var want messages.EncTicketPart
			if err := guard("EncTicketPart", func() error { return want.Unmarshal(b) }); err != nil {
				t.Fatalf("EncTicketPart accepted here, refused by gokrb5: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("EncTicketPart:\n got %+v\nwant %+v", got, want)
			}
		}
		if got, err := parseAPRep(b); err == nil {
			var want messages.APRep
			if err := guard("AP-REP", func() error {
				_, err := asn1.UnmarshalWithParams(b, &want, "application,explicit,tag:15")
				return err
			}); err != nil {
				t.Fatalf("AP-REP accepted here, refused by gofork: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("AP-REP:\n got %+v\nwant %+v", got, want)
			}
		}
		if got, err := parseEncAPRepPart(b); err == nil {
			var want messages.EncAPRepPart
			if err := guard("EncAPRepPart", func() error { return want.Unmarshal(b) }); err != nil {
				t.Fatalf("EncAPRepPart accepted here, refused by gokrb5: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("EncAPRepPart:\n got %+v\nwant %+v", got, want)
			}
		}
		if got, err := parseAuthenticator(b); err == nil {
			var want types.Authenticator
			if err := guard("Authenticator", func() error { return want.Unmarshal(b) }); err != nil {
				t.Fatalf("Authenticator accepted here, refused by gokrb5: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Authenticator:\n got %+v\nwant %+v", got, want)
			}
		}
	})
}
