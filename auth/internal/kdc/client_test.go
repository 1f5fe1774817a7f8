package kdc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
)

const realm = "EXAMPLE.TEST"

func setup(t *testing.T) (*kdc.Client, *kdcfake.KDC) {
	t.Helper()
	fake := kdcfake.New(realm)
	if err := fake.AddUser("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if err := fake.AddService("HTTP/web.example.test"); err != nil {
		t.Fatal(err)
	}
	cfg := config.New()
	cfg.LibDefaults.DefaultRealm = realm
	return kdc.New(cfg, kdc.WithTransport(fake)), fake
}

var alice = types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{"alice"}}
var web = types.PrincipalName{NameType: nametype.KRB_NT_SRV_HST, NameString: []string{"HTTP", "web.example.test"}}

func TestLoginAndServiceTicket(t *testing.T) {
	c, fake := setup(t)
	ctx := context.Background()
	tgt, err := c.Login(ctx, alice, realm, kdc.Password("alice-pw"), kdc.LoginOptions{Forwardable: true})
	if err != nil {
		t.Fatal(err)
	}
	if !tgt.IsTGT() || tgt.TGTRealm() != realm || !types.IsFlagSet(&tgt.Flags, flags.Forwardable) {
		t.Fatalf("TGT %+v", tgt.Server)
	}
	st, err := c.ServiceTicket(ctx, tgt, web, realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Server.Equal(web) || st.ClientRealm != realm || len(st.SessionKey.KeyValue) != 32 {
		t.Fatalf("service ticket %+v", st.Server)
	}
	fwd, err := c.TGS(ctx, kdc.TGSRequest{TGT: tgt, Server: kdc.TGTName(realm), Options: []int{flags.Forwarded}})
	if err != nil {
		t.Fatal(err)
	}
	if !types.IsFlagSet(&fwd.Flags, flags.Forwarded) {
		t.Error("forwarded TGT lacks the forwarded flag")
	}
	if fake.ASCount("alice") != 1 || fake.TGSCount("HTTP/web.example.test") != 1 {
		t.Errorf("counts AS %d TGS %d", fake.ASCount("alice"), fake.TGSCount("HTTP/web.example.test"))
	}
}

func TestLoginKeytab(t *testing.T) {
	c, fake := setup(t)
	kt, err := fake.UserKeytab("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), alice, realm, kdc.Keytab(kt), kdc.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := types.PrincipalName{NameType: 1, NameString: []string{"bob"}}
	_, err = c.Login(context.Background(), bob, realm, kdc.Keytab(kt), kdc.LoginOptions{})
	if !errors.Is(err, kdc.ErrNoCredentials) {
		t.Fatalf("keytab without bob: %v", err)
	}
}

func TestErrors(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	_, err := c.Login(ctx, alice, realm, kdc.Password("wrong"), kdc.LoginOptions{})
	var ke *kdc.Error
	if !errors.Is(err, kdc.ErrPreauthFailed) || !errors.As(err, &ke) || ke.Name != "KDC_ERR_PREAUTH_FAILED" || ke.Code != 24 {
		t.Fatalf("wrong password: %v", err)
	}
	if got, want := err.Error(), "KDC error KDC_ERR_PREAUTH_FAILED (24)"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	nobody := types.PrincipalName{NameType: 1, NameString: []string{"nobody"}}
	if _, err := c.Login(ctx, nobody, realm, kdc.Password("x"), kdc.LoginOptions{}); !errors.Is(err, kdc.ErrPrincipalUnknown) {
		t.Fatalf("unknown client: %v", err)
	}
	tgt, err := c.Login(ctx, alice, realm, kdc.Password("alice-pw"), kdc.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unknown := types.PrincipalName{NameType: 3, NameString: []string{"HTTP", "nowhere.example.test"}}
	if _, err := c.ServiceTicket(ctx, tgt, unknown, realm, nil); !errors.Is(err, kdc.ErrPrincipalUnknown) {
		t.Fatalf("unknown service: %v", err)
	}
}

func TestErrorIs(t *testing.T) {
	for code, target := range map[int32]error{6: kdc.ErrPrincipalUnknown, 7: kdc.ErrPrincipalUnknown, 24: kdc.ErrPreauthFailed, 32: kdc.ErrExpired} {
		if e := kdc.NewError(code, "", realm); !errors.Is(e, target) {
			t.Errorf("code %d is not %v", code, target)
		}
	}
	if errors.Is(kdc.NewError(25, "", realm), kdc.ErrPreauthFailed) {
		t.Error("PREAUTH_REQUIRED must not read as a failure")
	}
	if got := kdc.NewError(7, "Server not found", realm).Error(); got != "KDC error KDC_ERR_S_PRINCIPAL_UNKNOWN (7): Server not found" {
		t.Errorf("message %q", got)
	}
}
