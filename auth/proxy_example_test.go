package auth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/krbhttp/krbhttp/auth"
)

func ExampleProxyConnectTransport() {
	// A transport of your own, through a proxy, from which you clone
	// transports that requests sent through an auth.Transport use (as
	// wsman's per-connection encrypted transports are): the clones answer the proxy's
	// Negotiate on CONNECT. auth.NewTransport does this by itself to the
	// *http.Transport it is given.
	base := http.DefaultTransport.(*http.Transport).Clone()
	proxy, _ := url.Parse("http://proxy.example.test:3128")
	base.Proxy = http.ProxyURL(proxy)
	tr := auth.ProxyConnectTransport(base)
	fmt.Println(tr.GetProxyConnectHeader != nil, tr.OnProxyConnectResponse != nil, base.OnProxyConnectResponse == nil)
	// Output: true true true
}

func ExampleProxyAuthError() {
	// A proxy that asks for Negotiate, and a user without a ticket.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Proxy-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	defer proxy.Close()
	_, _, conf, stop := exampleLab()
	defer stop()
	// The proxy is the base transport's: here a fixed one (the default
	// base reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY).
	base := http.DefaultTransport.(*http.Transport).Clone()
	u, _ := url.Parse(proxy.URL)
	base.Proxy = http.ProxyURL(u)
	tr, err := auth.NewTransport(base, auth.WithConfig(conf), auth.WithCCache("FILE:/nonexistent/ccache"))
	if err != nil {
		panic(err)
	}
	_, err = (&http.Client{Transport: tr}).Get("http://intranet.example.test/")
	var pe *auth.ProxyAuthError
	fmt.Println(errors.Is(err, auth.ErrProxyAuth), errors.As(err, &pe), pe.SPN)
	// Output: true true HTTP/127.0.0.1
}
