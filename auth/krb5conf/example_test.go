package krb5conf_test

import (
	"errors"
	"fmt"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

func ExampleParse() {
	cfg, err := krb5conf.Parse(`
[libdefaults]
	default_realm = EXAMPLE.COM
	dns_canonicalize_hostname = fallback
	rdns = no
[realms]
	EXAMPLE.COM = {
		kdc = kdc1.example.com
		kdc = kdc2.example.com:750
	}
[domain_realm]
	.partner.example = PARTNER.EXAMPLE
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.LibDefaults.DefaultRealm, cfg.KDCs("EXAMPLE.COM"))
	fmt.Println(cfg.DNSCanonicalizeHostname, cfg.RDNS)
	fmt.Println(cfg.RealmForHost("www.partner.example"), cfg.RealmForHost("intranet.example.com"))
	// Output:
	// EXAMPLE.COM [kdc1.example.com:88 kdc2.example.com:750]
	// fallback false
	// PARTNER.EXAMPLE EXAMPLE.COM
}

func ExampleParse_error() {
	_, err := krb5conf.Parse("[libdefaults]\n\tforwardable = perhaps\n")
	fmt.Println(errors.Is(err, krb5conf.ErrMalformed))
	fmt.Println(err)
	// Output:
	// true
	// krb5conf: malformed Kerberos configuration: [libdefaults] forwardable = "perhaps" is not a boolean
}

func ExampleLoad() {
	// KRB5_CONFIG (a colon-separated list), else /etc/krb5.conf; missing
	// files are skipped, as MIT does.
	cfg, err := krb5conf.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = cfg.LibDefaults.DefaultRealm
}

func ExampleLoadFiles() {
	// Every file must exist; earlier files win.
	_, err := krb5conf.LoadFiles("/nonexistent/krb5.conf")
	fmt.Println(err)
	// Output:
	// krb5conf: open /nonexistent/krb5.conf: no such file or directory
}

func ExampleConfig_CCacheName() {
	cfg, _ := krb5conf.Parse("[libdefaults]\n\tdefault_ccache_name = DIR:%{TEMP}/krb5cc_%{uid}\n")
	// An Env stands in for the process here; nil reads the real one.
	cfg.Env = &krb5conf.Env{
		Getenv: func(key string) string { return map[string]string{"TMPDIR": "/run/user/1000"}[key] },
		UID:    func() int { return 1000 },
	}
	fmt.Println(cfg.CCacheName())

	cfg.Env.Getenv = func(key string) string { return map[string]string{"KRB5CCNAME": "FILE:/tmp/mine"}[key] }
	fmt.Println(cfg.CCacheName())
	// Output:
	// DIR:/run/user/1000/krb5cc_1000
	// FILE:/tmp/mine
}

func ExampleConfig_ClientKeytabName() {
	cfg, _ := krb5conf.Parse("")
	cfg.Env = &krb5conf.Env{
		Getenv: func(string) string { return "" },
		EUID:   func() int { return 1000 },
	}
	name, err := cfg.ClientKeytabName()
	fmt.Println(name, err)
	// Output:
	// FILE:/var/lib/krb5/user/1000/client.keytab <nil>
}

func ExampleConfig_ExpandPath() {
	cfg := &krb5conf.Config{Env: &krb5conf.Env{
		Getenv:   func(string) string { return "" },
		UID:      func() int { return 1000 },
		EUID:     func() int { return 0 },
		Username: func() (string, error) { return "alice", nil },
	}}
	fmt.Println(cfg.ExpandPath("%{TEMP}/cc_%{username}_%{uid}_%{euid}"))
	_, err := cfg.ExpandPath("/tmp/%{nonsense}")
	fmt.Println(err)
	// Output:
	// /tmp/cc_alice_1000_0 <nil>
	// krb5conf: malformed Kerberos configuration: unknown token %{nonsense} in path
}

func ExampleConfig_DomainRealm() {
	cfg, _ := krb5conf.Parse("[libdefaults]\n\tdefault_realm = HOME.EXAMPLE\n[domain_realm]\n\t.partner.example = PARTNER.EXAMPLE\n")
	fmt.Printf("%q %q\n", cfg.DomainRealm("web.partner.example"), cfg.DomainRealm("web.elsewhere.example"))
	// Output:
	// "PARTNER.EXAMPLE" ""
}
