package kdc_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
)

// realms routes each request to the fake KDC of its realm.
type realms map[string]*kdcfake.KDC

func (r realms) Exchange(ctx context.Context, realm string, req []byte) ([]byte, error) {
	k, ok := r[realm]
	if !ok {
		return nil, fmt.Errorf("no KDC for %s", realm)
	}
	return k.Exchange(ctx, realm, req)
}

// threeRealms: alice@A.TEST, HTTP/web.b.test@B.TEST, and C.TEST, with the
// trusts given as pairs.
func threeRealms(t *testing.T, trusts ...[2]string) realms {
	t.Helper()
	r := realms{}
	for _, n := range []string{"A.TEST", "B.TEST", "C.TEST"} {
		r[n] = kdcfake.New(n)
	}
	if err := r["A.TEST"].AddUser("alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := r["B.TEST"].AddService("HTTP/web.b.test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range trusts {
		if err := kdcfake.Trust(r[p[0]], r[p[1]]); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

var webB = types.PrincipalName{NameType: nametype.KRB_NT_SRV_HST, NameString: []string{"HTTP", "web.b.test"}}

func login(t *testing.T, r realms, opts ...kdc.Option) (*kdc.Client, *kdc.Credential) {
	t.Helper()
	c := kdc.New(config.New(), append([]kdc.Option{kdc.WithTransport(r)}, opts...)...)
	aliceName := types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{"alice"}}
	tgt, err := c.Login(context.Background(), aliceName, "A.TEST", kdc.Password("pw"), kdc.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, tgt
}

func crossRealm(t *testing.T, c *kdc.Client, tgt *kdc.Credential, realm string) (*kdc.Credential, []string, error) {
	t.Helper()
	var via []string
	st, err := c.ServiceTicket(context.Background(), tgt, webB, realm, func(x *kdc.Credential) {
		via = append(via, x.Server.PrincipalNameString()+"@"+x.ServerRealm)
	})
	if err == nil && (!st.Server.Equal(webB) || st.ServerRealm != "B.TEST" || st.ClientRealm != "A.TEST") {
		t.Fatalf("ticket for %s@%s, client realm %s", st.Server.PrincipalNameString(), st.ServerRealm, st.ClientRealm)
	}
	return st, via, err
}

func TestDirectTrust(t *testing.T) {
	r := threeRealms(t, [2]string{"A.TEST", "B.TEST"})
	c, tgt := login(t, r)
	_, via, err := crossRealm(t, c, tgt, "B.TEST")
	if err != nil || !slices.Equal(via, []string{"krbtgt/B.TEST@A.TEST"}) {
		t.Fatalf("via %v: %v", via, err)
	}
	if r["B.TEST"].TGSCount("HTTP/web.b.test") != 1 {
		t.Error("B's KDC issued no ticket")
	}
}

func TestReferral(t *testing.T) {
	r := threeRealms(t, [2]string{"A.TEST", "B.TEST"})
	r["A.TEST"].Refer("web.b.test", "B.TEST")
	c, tgt := login(t, r)
	_, via, err := crossRealm(t, c, tgt, "")
	if err != nil || !slices.Equal(via, []string{"krbtgt/B.TEST@A.TEST"}) {
		t.Fatalf("via %v: %v", via, err)
	}
}

func TestFallbackRealm(t *testing.T) {
	r := threeRealms(t, [2]string{"A.TEST", "B.TEST"})
	var asked []string
	c, tgt := login(t, r, kdc.WithFallbackRealm(func(_ context.Context, host string) string {
		asked = append(asked, host)
		return strings.ToUpper(host[strings.IndexByte(host, '.')+1:])
	}))
	_, via, err := crossRealm(t, c, tgt, "")
	if err != nil || !slices.Equal(asked, []string{"web.b.test"}) || len(via) != 1 {
		t.Fatalf("asked %v via %v: %v", asked, via, err)
	}
	// Without a fallback the referral failure is the answer.
	c2, tgt2 := login(t, r)
	if _, _, err := crossRealm(t, c2, tgt2, ""); !errors.Is(err, kdc.ErrPrincipalUnknown) {
		t.Fatalf("no fallback: %v", err)
	}
}

// TestCapaths: A trusts C, C trusts B, and [capaths] says A reaches B
// through C: A is asked for B (refused), then the closer C, then C for B.
func TestCapaths(t *testing.T) {
	r := threeRealms(t, [2]string{"A.TEST", "C.TEST"}, [2]string{"C.TEST", "B.TEST"})
	capaths := func(client, server string) []string {
		if client == "A.TEST" && server == "B.TEST" {
			return []string{"C.TEST"}
		}
		return nil
	}
	c, tgt := login(t, r, kdc.WithCapaths(capaths))
	_, via, err := crossRealm(t, c, tgt, "B.TEST")
	if err != nil || !slices.Equal(via, []string{"krbtgt/C.TEST@A.TEST", "krbtgt/B.TEST@C.TEST"}) {
		t.Fatalf("via %v: %v", via, err)
	}
	// Without capaths there is no route.
	c2, tgt2 := login(t, r)
	if _, _, err := crossRealm(t, c2, tgt2, "B.TEST"); !errors.Is(err, kdc.ErrPrincipalUnknown) {
		t.Fatalf("no capaths: %v", err)
	}
}

// TestOffPath: the client expects a direct trust; A's KDC knows better
// and hands out a TGT for C, which the client follows.
func TestOffPath(t *testing.T) {
	r := threeRealms(t, [2]string{"A.TEST", "C.TEST"}, [2]string{"C.TEST", "B.TEST"})
	r["A.TEST"].Route("B.TEST", "C.TEST")
	c, tgt := login(t, r)
	_, via, err := crossRealm(t, c, tgt, "B.TEST")
	if err != nil || !slices.Equal(via, []string{"krbtgt/C.TEST@A.TEST", "krbtgt/B.TEST@C.TEST"}) {
		t.Fatalf("via %v: %v", via, err)
	}
}

// TestLoopsBounded: KDCs that send the client round in circles give a
// typed error after a bounded number of requests.
func TestLoopsBounded(t *testing.T) {
	r := threeRealms(t, [2]string{"A.TEST", "C.TEST"}, [2]string{"C.TEST", "B.TEST"})
	r["A.TEST"].Route("B.TEST", "C.TEST")
	r["C.TEST"].Route("B.TEST", "A.TEST")
	r["C.TEST"].Refer("web.b.test", "A.TEST")
	r["A.TEST"].Refer("web.b.test", "C.TEST")
	c, tgt := login(t, r)
	if _, _, err := crossRealm(t, c, tgt, ""); !errors.Is(err, kdc.ErrMalformed) || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("referral loop: %v", err)
	}
	// A sends the client to C for B, C (which does not trust B) back to A.
	r = threeRealms(t, [2]string{"A.TEST", "C.TEST"})
	r["A.TEST"].Route("B.TEST", "C.TEST")
	r["C.TEST"].Route("B.TEST", "A.TEST")
	c, tgt = login(t, r)
	if _, _, err := crossRealm(t, c, tgt, "B.TEST"); !errors.Is(err, kdc.ErrMalformed) || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("off-path loop: %v", err)
	}
}

func TestRealmPath(t *testing.T) {
	capaths := map[string][]string{
		"A>B": {"X", "Y"},
		"A>C": {"."},
		"A>D": {"A", "X", "X", "D"},
	}
	f := func(c, s string) []string { return capaths[c+">"+s] }
	for server, want := range map[string]string{
		"B": "A X Y B",
		"C": "A C",
		"D": "A X D",
		"E": "A E",
	} {
		if got := strings.Join(kdc.RealmPath("A", server, f), " "); got != want {
			t.Errorf("%s: %s, want %s", server, got, want)
		}
	}
}
