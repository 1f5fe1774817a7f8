package credentials

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/internal/kdc/kdcfake"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

const testRealm = "EXAMPLE.TEST"

const testConf = `[libdefaults]
	default_realm = EXAMPLE.TEST
	forwardable = true
[realms]
	EXAMPLE.TEST = {
		kdc = 127.0.0.1:1
	}
[domain_realm]
	.example.test = EXAMPLE.TEST
`

// fakeEnv is an environment with fixed values, for hermetic tests.
func fakeEnv(vars map[string]string) *krb5conf.Env {
	return &krb5conf.Env{
		Getenv:   func(k string) string { return vars[k] },
		UID:      func() int { return 1000 },
		EUID:     func() int { return 1001 },
		Username: func() (string, error) { return "tester", nil },
	}
}

// clock is a settable clock shared by a source and the fake KDC.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	cfg   *krb5conf.Config
	kdc   *kdcfake.KDC
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := krb5conf.Parse(testConf)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Env = fakeEnv(nil)
	f := &fixture{cfg: cfg, kdc: kdcfake.New(testRealm), clock: newClock()}
	f.kdc.SetClock(f.clock.Now)
	for _, u := range []string{"alice", "bob"} {
		if err := f.kdc.AddUser(u, u+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"HTTP/web.example.test", "HTTP/other.example.test"} {
		if err := f.kdc.AddService(s); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) opts(extra ...Option) []Option {
	return append([]Option{withTransport(f.kdc), WithClock(f.clock.Now)}, extra...)
}

// login gets a TGT for user from the fake KDC.
func (f *fixture) login(t *testing.T, user string) *kdc.Credential {
	t.Helper()
	c := kdc.New(f.cfg.Config, kdc.WithTransport(f.kdc))
	cred, err := c.Login(context.Background(), types.PrincipalName{NameType: 1, NameString: []string{user}}, testRealm, kdc.Password(user+"-pw"), kdc.LoginOptions{Forwardable: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// writeCache writes a cache file holding creds, owned by the first one's
// client.
func writeCache(t *testing.T, path string, creds ...*kdc.Credential) {
	t.Helper()
	tkts := make([]*ticket.Ticket, len(creds))
	for i, c := range creds {
		tkts[i] = toTicket(c)
	}
	c, err := ccache.ForTickets(tkts...)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, ccache.Marshal(c))
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// Write and rename, as a changed file should look to the source.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readFileBytes(path string) ([]byte, error) { return os.ReadFile(path) }

// cacheWithServiceTicket writes a cache file holding alice's TGT and a
// ticket for webSPN, as kinit then kvno leave it, and returns its path and
// that ticket.
func (f *fixture) cacheWithServiceTicket(t *testing.T) (string, *kdc.Credential) {
	t.Helper()
	tgt := f.login(t, "alice")
	st, err := kdc.New(f.cfg.Config, kdc.WithTransport(f.kdc)).ServiceTicket(context.Background(), tgt, types.PrincipalName{NameType: 3, NameString: []string{"HTTP", "web.example.test"}}, testRealm, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, tgt, st)
	return path, st
}
