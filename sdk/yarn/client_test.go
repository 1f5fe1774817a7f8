package yarn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
)

func TestConstructorsValidate(t *testing.T) {
	t.Parallel()
	if _, err := New("rm:8090"); err == nil || !strings.HasPrefix(err.Error(), "yarn: ") {
		t.Errorf("New with a URL without scheme: %v", err)
	}
	if _, err := New("https://rm:8090", auth.WithPassword("secret")); err == nil {
		t.Error("New with an invalid auth option set succeeded")
	}
	if _, err := NewWithClient("https://rm:8090", nil); err == nil {
		t.Error("NewWithClient(nil) succeeded")
	}
	if _, err := NewWithDelegationToken("https://rm:8090", "", nil); err == nil {
		t.Error("NewWithDelegationToken with no token succeeded")
	}
}

func TestTheTokenHeaderIsNotOverridden(t *testing.T) {
	t.Parallel()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get(DelegationTokenHeader))
	}))
	t.Cleanup(srv.Close)
	c, err := NewWithDelegationToken(srv.URL, "mine", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	// Renewing another token names it in the header itself.
	if _, err := c.RenewDelegationTokenWithResponse(t.Context(), &RenewDelegationTokenParams{HadoopYARNRMDelegationToken: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetClusterInfoWithResponse(t.Context()); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "other,mine" {
		t.Errorf("headers %q", got)
	}
}
