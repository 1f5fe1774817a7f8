package credentials_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// exampleSource builds a password source with opts; nothing is sent to the
// KDC until a ticket is asked for.
func exampleSource(opts ...credentials.Option) error {
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		return err
	}
	_, err = credentials.NewPasswordSource(cfg, "alice", "secret", opts...)
	return err
}

func ExampleWithForwardable() {
	// A forwardable TGT is what credential delegation needs.
	fmt.Println(exampleSource(credentials.WithForwardable(true)))
	// Output: <nil>
}

func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fmt.Println(exampleSource(credentials.WithLogger(logger)))
	// Output: <nil>
}

func ExampleWithRefreshFraction() {
	// Replace tickets after half their lifetime: a 10-hour TGT after 5
	// hours, leaving 5 hours of it to ride out a KDC outage.
	fmt.Println(exampleSource(credentials.WithRefreshFraction(0.5)))
	// Output: <nil>
}

func ExampleWithRenewal() {
	// A long-running service using the TGT kinit -r left in a cache: the
	// source renews it (kinit -R) until its renew-till.
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = credentials.NewCCacheSource(cfg, "FILE:/tmp/krb5cc_service", "", credentials.WithRenewal(true))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithClock() {
	// A fixed clock, as tests of expiry use.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fmt.Println(exampleSource(credentials.WithClock(func() time.Time { return now })))
	// Output: <nil>
}

func ExampleWithKDCTimeout() {
	// Give up on a KDC that does not answer within two seconds.
	fmt.Println(exampleSource(credentials.WithKDCTimeout(2 * time.Second)))
	// Output: <nil>
}

func ExampleWithWriteBack() {
	// A batch job that must leave the user's KCM cache as kinit left it:
	// the service tickets it gets stay in this process.
	cfg, err := krb5conf.Parse(exampleConf)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = credentials.NewCCacheSource(cfg, "KCM:", "", credentials.WithWriteBack(false))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithResolver() {
	// KDCs and realms looked up in DNS (URI, SRV and TXT records) through
	// a name server of our choice, here one on a loopback port.
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, "127.0.0.1:5353")
	}}
	fmt.Println(exampleSource(credentials.WithResolver(r)))
	// Output: <nil>
}
