package ccache

import (
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

func TestForTickets(t *testing.T) {
	now := time.Now().Truncate(time.Second).UTC()
	tkt := &ticket.Ticket{
		Ticket: messages.Ticket{
			TktVNO:  5,
			Realm:   "R.TEST",
			SName:   types.NewPrincipalName(nametype.KRB_NT_SRV_HST, "HTTP/web.r.test"),
			EncPart: types.EncryptedData{EType: 18, Cipher: []byte{1, 2, 3}},
		},
		SessionKey:  types.EncryptionKey{KeyType: 18, KeyValue: make([]byte, 32)},
		Client:      types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice"),
		ClientRealm: "R.TEST",
		Flags:       asn1.BitString{Bytes: make([]byte, 4), BitLength: 32},
		AuthTime:    now,
		StartTime:   now,
		EndTime:     now.Add(time.Hour),
		RenewTill:   now.Add(2 * time.Hour),
	}
	types.SetFlag(&tkt.Flags, flags.Forwardable)
	types.SetFlag(&tkt.Flags, flags.PreAuthent)
	c, err := ForTickets(tkt)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(Marshal(c))
	if err != nil {
		t.Fatal(err)
	}
	got := back.Credentials[0]
	if back.Principal.String() != "alice@R.TEST" || got.Server.String() != "HTTP/web.r.test@R.TEST" {
		t.Errorf("principals %s %s", back.Principal, got.Server)
	}
	if want := uint32(0x40000000 | 0x00200000); got.Flags != want {
		t.Errorf("flags %#x, want %#x (forwardable, pre-authent)", got.Flags, want)
	}
	if !got.EndTime.Equal(tkt.EndTime) || !got.RenewTill.Equal(tkt.RenewTill) || got.Key.EncType != 18 {
		t.Errorf("entry %+v", got)
	}
	if _, err := ForTickets(); err == nil {
		t.Error("a cache without tickets")
	}
}
