package credentials

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// These tests run against a real MIT KDC (see package kdctest). They fail,
// never skip, when the MIT programs are missing.

const realSPN = "HTTP/web.krbhttp.test"

// shared is one realm for the whole test binary, started on first use and
// stopped by TestMain.
var shared struct {
	once  sync.Once
	dir   string
	realm *kdctest.Realm
	err   error
}

func realm(t *testing.T) *kdctest.Realm {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "credentials-kdc-")
		if shared.err != nil {
			return
		}
		r, err := kdctest.New(shared.dir)
		if err != nil {
			shared.err = err
			return
		}
		shared.realm = r
		for _, u := range []string{"alice", "bob", "burst"} {
			if err := r.AddPrincipal(u, u+"-password"); err != nil {
				shared.err = err
				return
			}
		}
		for _, s := range []string{realSPN, "HTTP/burst.krbhttp.test", "HTTP/kvno.krbhttp.test"} {
			if _, err := r.AddService(s, true); err != nil {
				shared.err = err
				return
			}
		}
	})
	if shared.err != nil {
		t.Fatalf("real KDC: %v (Debian packages: %s)", shared.err, kdctest.Packages)
	}
	return shared.realm
}

func stopRealm() {
	if shared.realm != nil {
		_ = shared.realm.Close()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
}

func realConfig(t *testing.T, r *kdctest.Realm) *krb5conf.Config {
	t.Helper()
	cfg, err := krb5conf.LoadFiles(r.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DNSCanonicalizeHostname != krb5conf.CanonicalizeFalse || cfg.RDNS || !cfg.LibDefaults.Forwardable {
		t.Fatalf("lab krb5.conf not read as expected: %+v", cfg)
	}
	return cfg
}

func TestRealPasswordLogin(t *testing.T) {
	r := realm(t)
	src, err := NewPasswordSource(realConfig(t, r), "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tkt, err := src.ServiceTicket(ctx, realSPN)
	if err != nil {
		t.Fatal(err)
	}
	if tkt.Ticket.SName.PrincipalNameString() != realSPN || tkt.ClientRealm != r.Realm || len(tkt.SessionKey.KeyValue) == 0 {
		t.Fatalf("ticket %v %s", tkt.Ticket.SName, tkt.ClientRealm)
	}
	if !types.IsFlagSet(&tkt.Flags, flags.OKAsDelegate) {
		t.Error("the service is ok-as-delegate but the ticket does not say so")
	}
	fwd, err := src.ForwardedTGT(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !types.IsFlagSet(&fwd.Flags, flags.Forwarded) {
		t.Error("forwarded TGT without the forwarded flag")
	}
}

func TestRealKeytabLogin(t *testing.T) {
	r := realm(t)
	path, err := r.Keytab("bob")
	if err != nil {
		t.Fatal(err)
	}
	kt, err := LoadKeytab(path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewKeytabSource(realConfig(t, r), "bob", kt)
	if err != nil {
		t.Fatal(err)
	}
	tkt, err := src.ServiceTicket(t.Context(), realSPN)
	if err != nil {
		t.Fatal(err)
	}
	if tkt.Client.PrincipalNameString() != "bob" {
		t.Errorf("client %v", tkt.Client)
	}
	// The default client keytab, through KRB5_CLIENT_KTNAME.
	cfg := realConfig(t, r)
	cfg.Env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "FILE:" + path})
	def, err := NewKeytabSource(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := def.TGT(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRealKinitFileCache(t *testing.T) {
	r := realm(t)
	cc := "FILE:" + filepath.Join(t.TempDir(), "cc")
	r.Kinit(t, "alice", cc)
	src, err := NewCCacheSource(realConfig(t, r), cc, "")
	if err != nil {
		t.Fatal(err)
	}
	tkt, err := src.ServiceTicket(t.Context(), realSPN)
	if err != nil {
		t.Fatal(err)
	}
	if tkt.Client.PrincipalNameString() != "alice" {
		t.Errorf("client %v", tkt.Client)
	}
	// kinit as someone else into the same file: picked up without a restart.
	r.Kinit(t, "bob", cc)
	tkt, err = src.ServiceTicket(t.Context(), realSPN)
	if err != nil {
		t.Fatal(err)
	}
	if tkt.Client.PrincipalNameString() != "bob" {
		t.Errorf("after kinit as bob: client %v", tkt.Client)
	}
	// The same principal again (a file of the same size): the new TGT,
	// with its new session key, is read.
	before, _ := src.TGT(t.Context())
	r.Kinit(t, "bob", cc)
	after, err := src.TGT(t.Context())
	if err != nil || bytes.Equal(after.SessionKey.KeyValue, before.SessionKey.KeyValue) {
		t.Errorf("TGT not reloaded after a second kinit (%v)", err)
	}
	// A named principal the cache does not hold.
	other, _ := NewCCacheSource(realConfig(t, r), cc, "alice")
	var pm *PrincipalMismatchError
	if _, err := other.ServiceTicket(t.Context(), realSPN); !errors.As(err, &pm) {
		t.Errorf("mismatch: %v", err)
	}
}

func TestRealKinitTicketInCache(t *testing.T) {
	r := realm(t)
	cc := "FILE:" + filepath.Join(t.TempDir(), "cc")
	r.Kinit(t, "alice", cc)
	out, err := r.Run("kvno", "-c", cc, "HTTP/kvno.krbhttp.test")
	if err != nil {
		t.Fatalf("kvno: %v %s", err, out)
	}
	before, _ := r.TGSCount("alice", "HTTP/kvno.krbhttp.test")
	src, _ := NewCCacheSource(realConfig(t, r), cc, "alice")
	if _, err := src.ServiceTicket(t.Context(), "HTTP/kvno.krbhttp.test"); err != nil {
		t.Fatal(err)
	}
	if after, _ := r.TGSCount("alice", "HTTP/kvno.krbhttp.test"); after != before {
		t.Errorf("TGS count %d -> %d: the ticket kvno stored in the cache was not used", before, after)
	}
}

func TestRealKinitDIRCollection(t *testing.T) {
	r := realm(t)
	dir := filepath.Join(t.TempDir(), "cc")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.Kinit(t, "alice", "DIR:"+dir)
	r.Kinit(t, "bob", "DIR:"+dir) // a second cache, made primary
	cfg := realConfig(t, r)
	for principal, want := range map[string]string{"": "bob", "alice": "alice", "bob@KRBHTTP.TEST": "bob"} {
		src, err := NewCCacheSource(cfg, "DIR:"+dir, principal)
		if err != nil {
			t.Fatal(err)
		}
		tkt, err := src.ServiceTicket(t.Context(), realSPN)
		if err != nil {
			t.Fatalf("%q: %v", principal, err)
		}
		if got := tkt.Client.PrincipalNameString(); got != want {
			t.Errorf("principal %q: client %s, want %s", principal, got, want)
		}
	}
	src, _ := NewCCacheSource(cfg, "DIR:"+dir, "nobody")
	if _, err := src.ServiceTicket(t.Context(), realSPN); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("nobody: %v", err)
	}
}

func TestRealSingleFlight(t *testing.T) {
	r := realm(t)
	const spn = "HTTP/burst.krbhttp.test"
	src, err := NewPasswordSource(realConfig(t, r), "burst", "burst-password")
	if err != nil {
		t.Fatal(err)
	}
	// Counts before, so that the test also holds under -count=N.
	tgs0, _ := r.TGSCount("burst", spn)
	as0, _ := r.ASCount("burst")
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := src.ServiceTicket(t.Context(), spn)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tgs, err := r.TGSCount("burst", spn)
	if err != nil {
		t.Fatal(err)
	}
	as, _ := r.ASCount("burst")
	tgs, as = tgs-tgs0, as-as0
	t.Logf("%d goroutines: %d AS exchange(s), %d TGS request(s) in the KDC log", n, as, tgs)
	if tgs != 1 || as != 1 {
		t.Fatalf("KDC log shows %d AS and %d TGS requests for %d goroutines, want 1 and 1", as, tgs, n)
	}
}

func TestRealErrors(t *testing.T) {
	r := realm(t)
	cfg := realConfig(t, r)
	wrong, _ := NewPasswordSource(cfg, "alice", "not-the-password")
	_, err := wrong.ServiceTicket(t.Context(), realSPN)
	if !errors.Is(err, ErrPreauthFailed) {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("password in error: %v", err)
	}
	t.Logf("wrong password: %v", err)
	src, _ := NewPasswordSource(cfg, "alice", "alice-password")
	_, err = src.ServiceTicket(t.Context(), "HTTP/unknown.krbhttp.test")
	if !errors.Is(err, ErrPrincipalUnknown) {
		t.Fatalf("unknown SPN: %v", err)
	}
	t.Logf("unknown SPN: %v", err)
	nobody, _ := NewPasswordSource(cfg, "nobody", "x")
	if _, err := nobody.TGT(t.Context()); !errors.Is(err, ErrPrincipalUnknown) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestRealKDCStopped(t *testing.T) {
	r := kdctest.Start(t) // its own KDC, to stop it
	if err := r.AddPrincipal("alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"HTTP/a.krbhttp.test", "HTTP/b.krbhttp.test"} {
		if _, err := r.AddService(s, false); err != nil {
			t.Fatal(err)
		}
	}
	src, err := NewPasswordSource(realConfig(t, r), "alice", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ServiceTicket(t.Context(), "HTTP/a.krbhttp.test"); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = src.ServiceTicket(ctx, "HTTP/b.krbhttp.test")
	elapsed := time.Since(start)
	if !errors.Is(err, ErrKDCUnreachable) {
		t.Fatalf("KDC stopped: %v", err)
	}
	t.Logf("after %v: %v", elapsed, err)
	if elapsed > 2*time.Second {
		t.Errorf("took %v to notice the KDC is gone", elapsed)
	}
	// The ticket already held is still handed out.
	if _, err := src.ServiceTicket(ctx, "HTTP/a.krbhttp.test"); err != nil {
		t.Errorf("cached ticket: %v", err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopRealm()
	os.Exit(code)
}
