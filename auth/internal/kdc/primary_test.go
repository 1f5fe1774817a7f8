package kdc

import (
	"context"
	"errors"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
)

// serveFake puts a fake KDC on a loopback UDP and TCP port.
func serveFake(t *testing.T, k *kdcfake.KDC) string {
	t.Helper()
	answer := func(req []byte) []byte {
		rep, err := k.Exchange(context.Background(), k.Realm, req)
		if err != nil {
			return nil
		}
		return rep
	}
	return startFake(t, answer, answer).addr
}

// TestLoginRetriesOnPrimary: the replica still has the old password, the
// primary the new one; a login with the new password fails on the replica
// and is tried once more on the primary, as MIT does.
func TestLoginRetriesOnPrimary(t *testing.T) {
	replica, primary := kdcfake.New("R"), kdcfake.New("R")
	if err := replica.AddUser("alice", "old-pw"); err != nil {
		t.Fatal(err)
	}
	if err := primary.AddUser("alice", "new-pw"); err != nil {
		t.Fatal(err)
	}
	st := DefaultSettings()
	st.Realms["R"] = RealmSettings{KDCs: []string{serveFake(t, replica)}, PrimaryKDCs: []string{serveFake(t, primary)}}
	c := New(config.New(), WithTransport(&NetTransport{Settings: st}))
	alice := types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{"alice"}}
	if _, err := c.Login(context.Background(), alice, "R", Password("new-pw"), LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if replica.ASCount("alice") != 0 || primary.ASCount("alice") != 1 {
		t.Errorf("AS issued by the replica %d, by the primary %d", replica.ASCount("alice"), primary.ASCount("alice"))
	}
	// A password neither knows: the replica's answer, after one try on
	// the primary.
	if _, err := c.Login(context.Background(), alice, "R", Password("wrong"), LoginOptions{}); !errors.Is(err, ErrPreauthFailed) {
		t.Fatalf("wrong password: %v", err)
	}
	// No primary known: the first answer stands.
	st.Realms["R"] = RealmSettings{KDCs: st.Realms["R"].KDCs}
	if _, err := c.Login(context.Background(), alice, "R", Password("new-pw"), LoginOptions{}); !errors.Is(err, ErrPreauthFailed) {
		t.Fatalf("no primary: %v", err)
	}
}
