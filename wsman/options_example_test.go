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

func ExampleWithAuth() {
	// Any auth option: here a keytab login and delegation, for a command
	// that reaches a second machine.
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithAuth(
		auth.WithPrincipal("svc-deploy@EXAMPLE.TEST"),
		auth.WithKeytab("/etc/krb5/deploy.keytab"),
		auth.WithDelegation(auth.DelegatePolicy),
	)))
	// The "Kerberos" HTTP scheme instead of "Negotiate", as some WinRM
	// listeners are configured; encrypted messages then carry the
	// application/HTTP-Kerberos-session-encrypted protocol.
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithAuth(auth.WithScheme(auth.SchemeKerberos))))
	// Output:
	// <nil>
	// <nil>
}

func ExampleWithTransport() {
	// The unencrypted path over HTTPS through any RoundTripper, e.g. one
	// with NTLM or a test double.
	fmt.Println(newClient("https://win1.example.test:5986/wsman",
		wsman.WithEncryption(wsman.EncryptNever), wsman.WithTransport(http.DefaultTransport)))
	// Output: <nil>
}

func ExampleWithBaseTransport() {
	// TLS, proxy and dialer settings, shared by the plain path and every
	// encrypted session.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	base.DialContext = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	base.MaxResponseHeaderBytes = 64 << 10
	fmt.Println(newClient("http://win1.example.test:5985/wsman", wsman.WithBaseTransport(base)))
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
