package credentials_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

const exampleConf = `[libdefaults]
	default_realm = EXAMPLE.TEST
	dns_canonicalize_hostname = fallback
	rdns = false
[realms]
	EXAMPLE.TEST = {
		kdc = kdc.example.test
	}
[domain_realm]
	.example.test = EXAMPLE.TEST
`

func ExampleNewCCacheSource() {
	// In a program: cfg, err := krb5conf.Load() (KRB5_CONFIG or
	// /etc/krb5.conf), and cache name "" for KRB5CCNAME or the default.
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := credentials.NewCCacheSource(cfg, "FILE:/nonexistent/krb5cc_example", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = src.ServiceTicket(context.Background(), "HTTP/web.example.test")
	fmt.Println(errors.Is(err, credentials.ErrNoCredentials))
	// Output: true
}

func ExampleNewPasswordSource() {
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Nothing is sent to the KDC before the first ServiceTicket call.
	src, err := credentials.NewPasswordSource(cfg, "alice", "secret",
		credentials.WithForwardable(true),
		credentials.WithRefreshFraction(0.8))
	if err != nil {
		fmt.Println(err)
		return
	}
	var _ credentials.TGTSource = src
	fmt.Println(src.Principal())
	// Output: alice@EXAMPLE.TEST
}

func ExampleNewKeytabSource() {
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Usually credentials.LoadKeytab(path), or nil for the default client
	// keytab (KRB5_CLIENT_KTNAME, default_client_keytab_name).
	kt := keytab.New()
	if err := kt.AddEntry("svc-batch", "EXAMPLE.TEST", "secret", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		fmt.Println(err)
		return
	}
	src, err := credentials.NewKeytabSource(cfg, "", kt) // "": the keytab's principal
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(src.Principal())
	// Output: svc-batch@EXAMPLE.TEST
}

func ExampleLoadKeytab() {
	// "FILE:path", "WRFILE:path" or a bare path; a corrupt file is an
	// error, never a panic.
	_, err := credentials.LoadKeytab("FILE:/nonexistent/krb5.keytab")
	fmt.Println(errors.Is(err, credentials.ErrNoCredentials))
	// Output: true
}

func ExampleDefaultClientKeytab() {
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.Env = &krb5conf.Env{Getenv: func(key string) string {
		return map[string]string{"KRB5_CLIENT_KTNAME": "/nonexistent/client.keytab"}[key]
	}}
	_, name, err := credentials.DefaultClientKeytab(cfg)
	fmt.Println(name, errors.Is(err, credentials.ErrNoCredentials))
	// Output: /nonexistent/client.keytab true
}

func ExampleNewDelegatedSource() {
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A server gets the delegated TGT from the client's authenticator:
	// package acceptor offers it as Identity.Credentials, already wrapped
	// in a DelegatedSource; gss.ParseKRBCred decodes one by hand.
	tgt := &ticket.Ticket{
		Ticket: messages.Ticket{
			Realm: "EXAMPLE.TEST",
			SName: types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "krbtgt/EXAMPLE.TEST"),
		},
		Client:      types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice"),
		ClientRealm: "EXAMPLE.TEST",
		EndTime:     time.Now().Add(time.Hour),
	}
	src, err := credentials.NewDelegatedSource(cfg, tgt)
	if err != nil {
		fmt.Println(err)
		return
	}
	// src.ServiceTicket(ctx, "HTTP/backend.example.test") now asks the
	// KDC for tickets as alice; auth.WithCredentials(src) makes a client
	// of it.
	fmt.Println(src.Principal())
	// Output: alice@EXAMPLE.TEST
}
