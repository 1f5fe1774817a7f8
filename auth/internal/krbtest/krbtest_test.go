package krbtest

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/credentials"
)

func TestTicketDecryptsWithKeytab(t *testing.T) {
	t.Parallel()
	s := NewService(t, "HTTP/host.example.test", "EXAMPLE.TEST")
	for _, et := range ETypes {
		start := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
		tkt := s.Ticket(t, "alice@OTHER.TEST", WithEType(et), WithStart(start), WithLifetime(time.Hour), WithFlags(flags.OKAsDelegate))
		if err := tkt.Ticket.DecryptEncPart(s.Keytab(), nil); err != nil {
			t.Fatalf("enctype %d: %v", et, err)
		}
		etp := tkt.Ticket.DecryptedEncPart
		if etp.CRealm != "OTHER.TEST" || tkt.ClientRealm != "OTHER.TEST" || etp.CName.PrincipalNameString() != "alice" {
			t.Errorf("client %v@%s", etp.CName, etp.CRealm)
		}
		if !etp.StartTime.Equal(start.Truncate(time.Second)) || !etp.EndTime.Equal(tkt.EndTime) || !tkt.EndTime.Equal(tkt.StartTime.Add(time.Hour)) {
			t.Errorf("times %v %v", etp.StartTime, etp.EndTime)
		}
		if string(etp.Key.KeyValue) != string(tkt.SessionKey.KeyValue) || etp.Key.KeyType != et {
			t.Errorf("session key differs")
		}
		if !types.IsFlagSet(&etp.Flags, flags.OKAsDelegate) || types.IsFlagSet(&etp.Flags, flags.Forwardable) {
			t.Errorf("flags %x", etp.Flags.Bytes)
		}
		if tkt.Ticket.EncPart.KVNO != KVNO {
			t.Errorf("kvno %d", tkt.Ticket.EncPart.KVNO)
		}
	}
	if s.Ticket(t, "bob", WithClientRealm("X.TEST")).ClientRealm != "X.TEST" || s.Ticket(t, "bob").ClientRealm != "EXAMPLE.TEST" {
		t.Error("client realm defaults")
	}
}

func TestKeySizes(t *testing.T) {
	t.Parallel()
	s := NewService(t, "HTTP/h", "R")
	want := map[int32]int{
		etypeID.AES256_CTS_HMAC_SHA1_96: 32, etypeID.AES128_CTS_HMAC_SHA1_96: 16,
		etypeID.AES256_CTS_HMAC_SHA384_192: 32, etypeID.AES128_CTS_HMAC_SHA256_128: 16, etypeID.RC4_HMAC: 16,
	}
	for _, e := range s.Keytab().Entries {
		if len(e.Key.KeyValue) != want[e.Key.KeyType] {
			t.Errorf("enctype %d: %d-byte key", e.Key.KeyType, len(e.Key.KeyValue))
		}
	}
	if len(s.Keytab().Entries) != len(ETypes) {
		t.Errorf("%d entries", len(s.Keytab().Entries))
	}
}

func TestKeytabFileRoundTrip(t *testing.T) {
	t.Parallel()
	s := NewService(t, "HTTP/h", "R")
	kt, err := credentials.LoadKeytab(s.KeytabFile(t))
	if err != nil {
		t.Fatal(err)
	}
	tkt := s.Ticket(t, "alice")
	if err := tkt.Ticket.DecryptEncPart(kt, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKrb5Conf(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(Krb5Conf(t, "EXAMPLE.TEST"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"default_realm = EXAMPLE.TEST", "EXAMPLE.TEST = {", "dns_canonicalize_hostname = false"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("krb5.conf lacks %q", want)
		}
	}
}

func TestBadEType(t *testing.T) {
	t.Parallel()
	s := NewService(t, "HTTP/h", "R")
	if _, err := s.NewTicket("alice", WithEType(99)); err == nil {
		t.Fatal("no error for an unknown enctype")
	}
}
