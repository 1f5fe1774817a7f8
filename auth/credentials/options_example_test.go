package credentials_test

import (
	"fmt"
	"log/slog"
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

func ExampleWithRefreshBefore() {
	// Replace tickets five minutes (or 10% of their life, if longer)
	// before they expire.
	fmt.Println(exampleSource(credentials.WithRefreshBefore(5 * time.Minute)))
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
