package auth_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
)

// TestUnchallengedUnderRequired: a server that answers 200 without ever
// asking for authentication, under required mutual authentication, is
// refused with a message saying the server did not authenticate and
// naming the mode that accepts it; an error status from it is sanitized,
// and Sanitized says so, so that tools can tell the user.
func TestUnchallengedUnderRequired(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "the server's own explanation", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
	t.Cleanup(srv.Close)
	tr, err := auth.NewTransport(nil, auth.WithPrincipal("alice@EXAMPLE.TEST"), auth.WithPassword("unused"))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: tr}
	_, err = c.Get(srv.URL + "/")
	var mutual *auth.MutualAuthenticationError
	if !errors.As(err, &mutual) || !strings.Contains(err.Error(), "did not authenticate") || !strings.Contains(err.Error(), "MutualOptional") {
		t.Fatalf("200 without a challenge: %v", err)
	}
	resp, err := c.Get(srv.URL + "/bad")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(body) != 0 || !auth.Sanitized(resp) {
		t.Fatalf("400: %s %q sanitized=%v", resp.Status, body, auth.Sanitized(resp))
	}
	opt, err := auth.NewTransport(nil, auth.WithPrincipal("alice@EXAMPLE.TEST"), auth.WithPassword("unused"),
		auth.WithMutualAuthentication(auth.MutualOptional))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = (&http.Client{Transport: opt}).Get(srv.URL + "/bad")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if auth.Sanitized(resp) || auth.Sanitized(nil) {
		t.Error("Sanitized is true for a response left as it was")
	}
}
