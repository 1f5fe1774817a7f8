package kdcproxy_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/krbhttp/krbhttp/auth/kdcproxy"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// A KDC proxy for EXAMPLE.TEST mounted where Windows and MIT clients look
// for it (kdc = https://proxy.example.test/KdcProxy in their krb5.conf).
// A real server would call http.ListenAndServeTLS.
func Example() {
	h, err := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test", "kdc2.example.test:88"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/KdcProxy", h)
	s := httptest.NewTLSServer(mux)
	defer s.Close()

	// Anything but a POSTed KDC-PROXY-MESSAGE is refused.
	resp, err := s.Client().Post(s.URL+"/KdcProxy", "application/kerberos", bytes.NewReader([]byte("hello")))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 400 Bad Request
}

// The realms and KDCs of a krb5.conf: every realm that lists KDCs by host.
func ExampleWithConfig() {
	conf, err := krb5conf.Parse(`
[realms]
	EXAMPLE.TEST = {
		kdc = kdc1.example.test
		kdc = https://elsewhere.example.test/KdcProxy
	}
`)
	if err != nil {
		panic(err)
	}
	h, err := kdcproxy.New(kdcproxy.WithConfig(conf))
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Realms())
	// Output: map[EXAMPLE.TEST:[kdc1.example.test:88]]
}

func ExampleWithRealm() {
	h, err := kdcproxy.New(
		kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test", "[2001:db8::88]:750"),
		kdcproxy.WithRealm("PARTNER.TEST", "kdc.partner.test"),
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Realms()["EXAMPLE.TEST"], h.Realms()["PARTNER.TEST"])
	// Output: [kdc1.example.test:88 [2001:db8::88]:750] [kdc.partner.test:88]
}

func ExampleWithMaxRequestBytes() {
	h, _ := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test"), kdcproxy.WithMaxRequestBytes(16<<10))
	s := httptest.NewTLSServer(h)
	defer s.Close()
	resp, err := s.Client().Post(s.URL, "application/kerberos", bytes.NewReader(make([]byte, 20<<10)))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 413 Request Entity Too Large
}

// Timeouts: two seconds per KDC, five for the whole request, at most 16
// exchanges in flight.
func ExampleWithKDCTimeout() {
	_, err := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test", "kdc2.example.test"),
		kdcproxy.WithKDCTimeout(2*time.Second), kdcproxy.WithTimeout(5*time.Second), kdcproxy.WithMaxConcurrent(16))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleWithTimeout() {
	_, err := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test"), kdcproxy.WithTimeout(0))
	fmt.Println(err)
	// Output: kdcproxy: WithTimeout: must be positive
}

func ExampleWithMaxConcurrent() {
	_, err := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test"), kdcproxy.WithMaxConcurrent(8))
	fmt.Println(err)
	// Output: <nil>
}

// Behind a reverse proxy that ends TLS, requests arrive over plain HTTP;
// without this option they get 403.
func ExampleWithAllowPlainHTTP() {
	for _, opts := range [][]kdcproxy.Option{nil, {kdcproxy.WithAllowPlainHTTP()}} {
		h, _ := kdcproxy.New(append(opts, kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test"))...)
		s := httptest.NewServer(h)
		resp, err := http.Get(s.URL)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		s.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 403 Forbidden
	// 405 Method Not Allowed
}

// One line per request; the message contents never appear.
func ExampleWithLogger() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == "remote" || a.Key == "elapsed" {
			return slog.Attr{}
		}
		return a
	}}))
	h, _ := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test"), kdcproxy.WithLogger(log))
	s := httptest.NewTLSServer(h)
	defer s.Close()
	resp, err := s.Client().Get(s.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	// Output: level=INFO msg=kdcproxy status=405 error="method GET not allowed"
}

func ExampleWithDialer() {
	_, err := kdcproxy.New(kdcproxy.WithRealm("EXAMPLE.TEST", "kdc1.example.test"), kdcproxy.WithDialer(nil))
	fmt.Println(err)
	// Output: kdcproxy: WithDialer: nil dialer
}
