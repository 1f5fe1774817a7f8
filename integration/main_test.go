package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// The realm every test shares: one KDC for the whole test binary keeps the
// suite fast; tests that count KDC requests use principals of their own.
var env struct {
	realm      *kdctest.Realm
	conf       *krb5conf.Config
	httpKeytab string // HTTP/localhost
	ipKeytab   string // HTTP/127.0.0.1, for a second host
	webKeytab  string // HTTP/web.krbhttp.test, for hostname override

	// partner is a second realm trusting realm both ways (cross-realm
	// tests); partnerKeytab holds HTTP/web.<partner domain>.
	partner       *kdctest.Realm
	partnerKeytab string
}

// partnerRealm is the second realm's name, as the lab's realm.sh makes it.
const partnerRealm = "PARTNER.TEST"

const alicePassword = "alice-secret-1"

func TestMain(m *testing.M) {
	if ok, err := uploadChild(); ok {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "krbhttp-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	var realm *kdctest.Realm
	var partner *kdctest.Realm
	if labDir := os.Getenv("KRBHTTP_LAB_DIR"); labDir != "" {
		// A running lab's realms (the compose kdc service's volume, or
		// integration/lab on the host): its KDC runs elsewhere, and the
		// lab made the trust.
		if realm, err = kdctest.Attach(labDir); err == nil {
			partner, err = kdctest.Attach(filepath.Join(labDir, "partner"))
		}
	} else {
		realm, err = kdctest.New(dir)
		if err == nil {
			if err = os.Mkdir(filepath.Join(dir, "partner"), 0o700); err == nil {
				partner, err = kdctest.New(filepath.Join(dir, "partner"), kdctest.WithRealm(partnerRealm))
			}
		}
		if err == nil {
			err = kdctest.Trust(realm, partner)
		}
	}
	if realm != nil {
		defer realm.Close()
	}
	if partner != nil {
		defer partner.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting or attaching the KDCs:", err)
		return 1
	}
	env.realm, env.partner = realm, partner
	if err := setupRealm(realm); err != nil {
		fmt.Fprintln(os.Stderr, "setting up the realm:", err)
		return 1
	}
	defer runCleanups()
	return m.Run()
}

// Shared servers outlive any one test; they are stopped when the binary
// ends.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func addCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func runCleanups() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

func setupRealm(r *kdctest.Realm) error {
	var err error
	if err = r.AddPrincipal("alice", alicePassword); err != nil {
		return err
	}
	if env.httpKeytab, err = r.AddService("HTTP/localhost", false); err != nil {
		return err
	}
	if env.webKeytab, err = r.AddService("HTTP/web.krbhttp.test", true); err != nil {
		return err
	}
	if env.ipKeytab, err = r.AddService("HTTP/127.0.0.1", false); err != nil {
		return err
	}
	spn := "HTTP/web." + env.partner.Domain
	if env.partnerKeytab, err = env.partner.AddService(spn, false); err != nil {
		// The lab's realm.sh made it for its partner server: take its
		// keys as they are.
		if env.partnerKeytab, err = env.partner.Keytab(spn); err != nil {
			return err
		}
	}
	env.conf, err = krb5conf.LoadFiles(r.ConfigPath)
	return err
}

// kinit gets a fresh TGT for principal into a new FILE cache and returns
// its name.
func kinit(t testing.TB, principal string) string {
	t.Helper()
	cc := "FILE:" + filepath.Join(t.TempDir(), "ccache")
	env.realm.Kinit(t, principal, cc)
	return cc
}

// getResponse sends GET url through c and returns the response, its body
// read and closed, with the body. A transport error fails the test.
func getResponse(t testing.TB, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, b
}

// get is getResponse for the status and the body as text.
func get(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, b := getResponse(t, c, url)
	return resp.StatusCode, string(b)
}

// newUser adds a principal with a password, for tests that count the
// KDC requests made for it.
// users numbers the principals newUser makes, so that -count=N runs
// make new ones.
var users atomic.Int32

func newUser(t *testing.T) (name, password string) {
	t.Helper()
	name = strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + fmt.Sprint("-", users.Add(1))
	password = name + "-pw"
	if err := env.realm.AddPrincipal(name, password); err != nil {
		t.Fatal(err)
	}
	return name, password
}

// server is our acceptor on loopback, reached as http://localhost:PORT.
type server struct {
	URL  string
	hits atomic.Int32
}

func startServer(t *testing.T, keytabPath string, h http.Handler, opts ...acceptor.Option) *server {
	t.Helper()
	kt, err := credentials.LoadKeytab(keytabPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := acceptor.New(kt, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = whoamiHandler()
	}
	s := &server{}
	inner := a.Wrap(h)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		inner.ServeHTTP(w, r)
	}))
	ts.Config.ConnContext = a.ConnContext
	ts.Start()
	t.Cleanup(ts.Close)
	s.URL = strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
	return s
}

// whoamiHandler answers "<principal> <method> <body length>".
func whoamiHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := acceptor.IdentityFromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		fmt.Fprintf(w, "%s %s %d", id.Principal, r.Method, n)
	})
}

func client(t *testing.T, opts ...auth.Option) *http.Client {
	t.Helper()
	c, err := auth.NewClient(append([]auth.Option{auth.WithConfig(env.conf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}
