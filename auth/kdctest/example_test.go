package kdctest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// Two realms trusting each other both ways, as cross-realm tests need:
// users of KRBHTTP.TEST reach services of PARTNER.TEST.
func ExampleTrust() {
	a, err := kdctest.NewTemp()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := kdctest.NewTemp(kdctest.WithRealm("PARTNER.TEST"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	if err := kdctest.Trust(a, b); err != nil {
		fmt.Println(err)
		return
	}
	conf, _ := os.ReadFile(a.ConfigPath)
	fmt.Println(a.Realm, "trusts", b.Realm, "whose hosts are under", b.Domain, len(conf) > 0)
	// Output: KRBHTTP.TEST trusts PARTNER.TEST whose hosts are under partner.test true
}

// A realm and a logged-in user for a program that has no testing.TB (a
// demo, a lab): Login leaves a TGT in the cache, as kinit does.
func ExampleRealm_Login() {
	r, err := kdctest.NewTemp()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	if err := r.AddPrincipal("alice", "a-password-1"); err != nil {
		fmt.Println(err)
		return
	}
	cache := "FILE:" + filepath.Join(r.Dir, "alice.ccache")
	if err := r.Login("alice", cache); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := r.Klist("-c", cache)
	fmt.Println(strings.Contains(out, "krbtgt/"+r.Realm))
	// Output: true
}

// A realm with compressed time, for tests of ticket refresh and renewal:
// 30-second TGTs, renewable for 10 minutes.
func ExampleWithLifetimes() {
	r, err := kdctest.NewTemp(kdctest.WithLifetimes(30*time.Second, 10*time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	if err := r.AddPrincipal("alice", "a-password-1"); err != nil {
		fmt.Println(err)
		return
	}
	cache := "FILE:" + filepath.Join(r.Dir, "alice.ccache")
	if err := r.Login("alice", cache); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := r.Klist("-c", cache)
	fmt.Println(strings.Contains(out, "renew until"))
	// Output: true
}
