package kdctest_test

import (
	"fmt"
	"os"

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
