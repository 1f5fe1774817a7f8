package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

func wantAlice(t *testing.T, status int, body string) {
	t.Helper()
	if status != 200 || !strings.HasPrefix(body, "alice@"+env.realm.Realm+" ") {
		t.Fatalf("got %d %q, want 200 from alice@%s", status, body, env.realm.Realm)
	}
}

func TestCCacheFromKinit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	cc := kinit(t, "alice")
	status, body := get(t, client(t, auth.WithCCache(cc)), srv.URL+"/whoami")
	wantAlice(t, status, body)
}

func TestDefaultCCacheFromKRB5CCNAME(t *testing.T) {
	// Not parallel: it sets the process environment, as a user's shell does.
	srv := startServer(t, env.httpKeytab, nil)
	t.Setenv("KRB5CCNAME", kinit(t, "alice"))
	t.Setenv("KRB5_CONFIG", env.realm.ConfigPath)
	c, err := auth.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	status, body := get(t, c, srv.URL)
	wantAlice(t, status, body)
}

func TestPasswordLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	c := client(t, auth.WithPrincipal("alice@"+env.realm.Realm), auth.WithPassword(alicePassword))
	status, body := get(t, c, srv.URL)
	wantAlice(t, status, body)
}

func TestWrongPasswordReturns401WithReason(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	c := client(t, auth.WithPrincipal("alice"), auth.WithPassword("wrong"))
	resp, _ := getResponse(t, c, srv.URL)
	reason := auth.ResponseError(resp)
	if resp.StatusCode != 401 || !errors.Is(reason, credentials.ErrPreauthFailed) {
		t.Fatalf("status %d, reason %v; want 401 and ErrPreauthFailed", resp.StatusCode, reason)
	}
}

func TestKeytabLogin(t *testing.T) {
	t.Parallel()
	user, _ := newUser(t)
	kt, err := env.realm.Keytab(user)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, env.httpKeytab, nil)
	status, body := get(t, client(t, auth.WithPrincipal(user), auth.WithKeytab(kt)), srv.URL)
	if status != 200 || !strings.HasPrefix(body, user+"@") {
		t.Fatalf("got %d %q, want 200 from %s", status, body, user)
	}
}

func TestMutualModes(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	for _, mode := range []auth.MutualMode{auth.MutualRequired, auth.MutualOptional, auth.MutualDisabled} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := startServer(t, env.httpKeytab, nil)
			status, body := get(t, client(t, auth.WithCCache(cc), auth.WithMutualAuthentication(mode)), srv.URL)
			wantAlice(t, status, body)
		})
	}
}

// failing answers 500 with no token, as a WinRM fault or a proxy error
// page does.
func failing() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Del("WWW-Authenticate")
		w.Header().Set("X-Detail", "internal")
		http.Error(w, "fault detail", http.StatusInternalServerError)
	})
}

func TestSanitizing(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	srv := startServer(t, env.httpKeytab, failing())
	for _, sanitize := range []bool{true, false} {
		t.Run(fmt.Sprint("sanitize=", sanitize), func(t *testing.T) {
			resp, b := getResponse(t, client(t, auth.WithCCache(cc), auth.WithSanitize(sanitize)), srv.URL)
			hidden := len(b) == 0 && resp.Header.Get("X-Detail") == ""
			if resp.StatusCode != 500 || hidden != sanitize {
				t.Fatalf("status %d body %q headers %v; want 500, sanitized=%v", resp.StatusCode, b, resp.Header, sanitize)
			}
		})
	}
}

func TestForcePreemptive(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	c := client(t, auth.WithCCache(kinit(t, "alice")), auth.WithPreemptive(auth.PreemptiveAlways))
	for range 3 {
		status, body := get(t, c, srv.URL)
		wantAlice(t, status, body)
	}
	if got := srv.hits.Load(); got != 3 {
		t.Fatalf("server saw %d requests, want 3: no 401 round trips", got)
	}
}

func TestHostnameOverride(t *testing.T) {
	t.Parallel()
	// The server holds only the key of HTTP/web.krbhttp.test, and is reached
	// as localhost: only the overridden SPN can work.
	srv := startServer(t, env.webKeytab, nil)
	c := client(t, auth.WithCCache(kinit(t, "alice")), auth.WithHostnameOverride("web.krbhttp.test"))
	status, body := get(t, c, srv.URL)
	wantAlice(t, status, body)

	if status, _ := get(t, client(t, auth.WithCCache(kinit(t, "alice"))), srv.URL); status != 401 {
		t.Fatalf("without the override: status %d, want 401", status)
	}
}

func TestPostBodyReplayedAfter401(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	c := client(t, auth.WithCCache(kinit(t, "alice")))
	payload := strings.Repeat("x", 300<<10)
	for name, body := range map[string]io.Reader{
		"with GetBody":    strings.NewReader(payload),
		"plain io.Reader": io.MultiReader(strings.NewReader(payload)),
	} {
		resp, err := c.Post(srv.URL, "text/plain", body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("alice@%s POST %d", env.realm.Realm, len(payload)); string(b) != want {
			t.Fatalf("%s: server saw %q, want %q", name, b, want)
		}
	}
}

func TestOneTGSRequestForManyRequestsAndGoroutines(t *testing.T) {
	t.Parallel()
	user, password := newUser(t)
	srv := startServer(t, env.httpKeytab, nil)
	c := client(t, auth.WithPrincipal(user), auth.WithPassword(password))
	burst(t, c, srv.URL, 40, 5)
	n, err := env.realm.TGSCount(user+"@"+env.realm.Realm, "HTTP/localhost@"+env.realm.Realm)
	if err != nil {
		t.Fatal(err)
	}
	as, err := env.realm.ASCount(user + "@" + env.realm.Realm)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("the KDC issued %d service tickets for 200 requests from 40 goroutines, want 1", n)
	}
	t.Logf("200 requests, 40 goroutines: %d TGS request(s), %d AS request(s)", n, as)
}

// burst sends goroutines × each GETs to url with c at once, failing the
// test on any error or non-200.
func burst(t *testing.T, c *http.Client, url string, goroutines, each int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range each {
				resp, err := c.Get(url)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
