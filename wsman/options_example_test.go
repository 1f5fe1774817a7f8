package wsman_test

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/wsman"
)

// newClient builds a client with opts; nothing is sent until a shell is
// created.
func newClient(endpoint string, opts ...wsman.Option) error {
	c, err := wsman.NewClient(endpoint, opts...)
	if err == nil {
		err = c.Close()
	}
	return err
}

func ExampleWithEncryption() {
	// Kerberos message encryption even where TLS would protect the body.
	fmt.Println(newClient("https://win1.example.test:5986/wsman", wsman.WithEncryption(wsman.EncryptAlways)))
	// Output: <nil>
}

func ExampleWithAuthScheme() {
	// The "Kerberos" HTTP scheme instead of "Negotiate", as some WinRM
	// listeners are configured.
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithAuthScheme(wsman.SchemeKerberos)))
	// Output: <nil>
}

func ExampleWithAuth() {
	// Any auth option: here a keytab login and delegation, for a command
	// that reaches a second machine.
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithAuth(
		auth.WithPrincipal("svc-deploy@EXAMPLE.TEST"),
		auth.WithKeytab("/etc/krb5/deploy.keytab"),
		auth.WithDelegation(auth.DelegatePolicy),
	)))
	// Output: <nil>
}

func ExampleWithTransport() {
	// The unencrypted path over HTTPS through any RoundTripper, e.g. one
	// with NTLM or a test double.
	fmt.Println(newClient("https://win1.example.test:5986/wsman",
		wsman.WithEncryption(wsman.EncryptNever), wsman.WithTransport(http.DefaultTransport)))
	// Output: <nil>
}

func ExampleWithInitiator() {
	// The Kerberos context of the encrypted path from a transport of your
	// own configuration.
	tr, err := auth.NewTransport(nil, auth.WithService("WSMAN"))
	if err != nil {
		panic(err)
	}
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithInitiator(tr)))
	// Output: <nil>
}

func ExampleWithTLSConfig() {
	fmt.Println(newClient("https://win1.example.test:5986/wsman",
		wsman.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12})))
	// Output: <nil>
}

func ExampleWithDialer() {
	d := &net.Dialer{Timeout: 5 * time.Second}
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithDialer(d.DialContext)))
	// Output: <nil>
}

func ExampleWithOperationTimeout() {
	// How long the server may hold a Receive before answering "no output
	// yet" (the client then polls again).
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithOperationTimeout(20*time.Second)))
	// Output: <nil>
}

func ExampleWithMaxEnvelopeSize() {
	// Windows' default MaxEnvelopeSizekb is 500; raise it when the server's is.
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithMaxEnvelopeSize(1024*1024)))
	// Output: <nil>
}

func ExampleWithLocale() {
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithLocale("de-DE")))
	// Output: <nil>
}

func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithLogger(logger)))
	// Output: <nil>
}
