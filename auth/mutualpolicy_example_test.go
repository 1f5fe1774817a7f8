package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/krbhttp/krbhttp/auth"
)

// datanodeLike starts a server that, like a Hadoop datanode, stores what
// it is sent and answers 201 without ever authenticating itself.
func datanodeLike() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
}

func ExampleWithMutualAuthenticationFor() {
	datanode := datanodeLike()
	defer datanode.Close()
	client, err := auth.NewClient() // MutualRequired
	if err != nil {
		panic(err)
	}

	req, _ := http.NewRequest(http.MethodPut, datanode.URL, strings.NewReader("data"))
	_, err = client.Do(req)
	var me *auth.MutualAuthenticationError
	if errors.As(err, &me) {
		fmt.Println("refused after the server answered", me.Response.StatusCode)
	}

	// This request goes to a server the program trusts for another reason
	// (an authenticated server chose it): it alone may pass unverified.
	ctx := auth.WithMutualAuthenticationFor(context.Background(), auth.MutualOptional)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, datanode.URL, strings.NewReader("data"))
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "server authenticated:", auth.MutuallyAuthenticated(resp))
	// Output:
	// refused after the server answered 201
	// 201 server authenticated: false
}

func ExampleWithMutualAuthenticationPolicy() {
	legacy := datanodeLike()
	defer legacy.Close()
	legacyHost := strings.TrimPrefix(legacy.URL, "http://")
	client, err := auth.NewClient(auth.WithMutualAuthenticationPolicy(func(r *http.Request) auth.MutualMode {
		if r.URL.Host == legacyHost {
			return auth.MutualOptional // this host's proxy strips reply tokens
		}
		return auth.MutualRequired
	}))
	if err != nil {
		panic(err)
	}
	resp, err := client.Post(legacy.URL, "text/plain", strings.NewReader("data"))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 201
}

func ExampleMutuallyAuthenticated() {
	url, src, conf, stop := exampleLab()
	defer stop()
	client, err := auth.NewClient(auth.WithCredentials(src), auth.WithConfig(conf))
	if err != nil {
		panic(err)
	}
	resp, err := client.Get(url)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "server authenticated:", auth.MutuallyAuthenticated(resp))
	// Output: 200 server authenticated: true
}
