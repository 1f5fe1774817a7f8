package integration

import (
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/integration/internal/apache"
)

// Apache holds only HTTP/localhost's key; reached by address, only the
// overridden SPN authenticates.
func TestApacheHostnameOverride(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	byAddress := strings.Replace(a.URL, "localhost", "127.0.0.1", 1) + apache.PathProtected
	c := client(t, auth.WithCCache(kinit(t, "alice")), auth.WithHostnameOverride("localhost"))
	resp, _ := getResponse(t, c, byAddress)
	if resp.StatusCode != 200 || resp.Header.Get("X-Remote-User") != "alice@"+env.realm.Realm {
		t.Fatalf("with the override: status %d, user %q", resp.StatusCode, resp.Header.Get("X-Remote-User"))
	}
}
