package credentials

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache/keyring"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// countingTransport counts the requests that reach the fake KDC,
// failures included (the fake KDC counts only the tickets it issues).
type countingTransport struct {
	kdc.Transport
	n atomic.Int64
}

func (c *countingTransport) Exchange(ctx context.Context, realm string, req []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Transport.Exchange(ctx, realm, req)
}

// TestShortLifetimesRefreshByFraction: with 30-second tickets (shorter
// than any fixed refresh margin) a busy source logs in and gets a service
// ticket once per 22.5 s (DefaultRefreshFraction), not on every call.
func TestShortLifetimesRefreshByFraction(t *testing.T) {
	f := newFixture(t)
	f.kdc.SetLifetime(30 * time.Second)
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const calls = 1200 // one every 100 ms for 120 s
	for i := range calls {
		tkt, err := src.ServiceTicket(ctx, webSPN)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if !f.clock.Now().Before(tkt.EndTime) {
			t.Fatalf("call %d: expired ticket handed out", i)
		}
		f.clock.Advance(100 * time.Millisecond)
	}
	as, tgs := f.kdc.ASCount("alice"), f.kdc.TGSCount(webSPN)
	// 120 s / 22.5 s: the first ticket and five replacements.
	if as > 6 || tgs > 6 {
		t.Fatalf("%d calls over 120 s with 30 s tickets: %d AS and %d TGS requests; want at most 6 each", calls, as, tgs)
	}
	s := src.Stats()
	t.Logf("%d AS, %d TGS; stats %+v", as, tgs, s)
	if s.Logins != uint64(as) || s.ServiceTickets != uint64(tgs) || s.CacheHits != calls-uint64(tgs) || s.Refreshes != uint64(as+tgs-2) {
		t.Errorf("stats %+v disagree with the KDC's %d AS and %d TGS", s, as, tgs)
	}
}

// TestRefreshFractionOption: a lower fraction replaces tickets sooner.
func TestRefreshFractionOption(t *testing.T) {
	f := newFixture(t)
	f.kdc.SetLifetime(100 * time.Second)
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts(WithRefreshFraction(0.5))...)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		advance time.Duration
		tgs     int
	}{{0, 1}, {49 * time.Second, 1}, {2 * time.Second, 2}} {
		f.clock.Advance(step.advance)
		if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
			t.Fatal(err)
		}
		if got := f.kdc.TGSCount(webSPN); got != step.tgs {
			t.Fatalf("after %v more: %d TGS requests, want %d", step.advance, got, step.tgs)
		}
	}
	for _, bad := range []float64{0, 1, -0.5, 2} {
		if _, err := NewPasswordSource(f.cfg, "alice", "x", WithRefreshFraction(bad)); err == nil {
			t.Errorf("WithRefreshFraction(%v) accepted", bad)
		}
	}
}

// TestLoginBackoff: with the KDC down, a burst of callers costs one
// login attempt, and later calls wait for the backoff instead of asking
// again; once the KDC is back, the next attempt after the backoff logs in.
func TestLoginBackoff(t *testing.T) {
	f := newFixture(t)
	ct := &countingTransport{Transport: f.kdc}
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", withTransport(ct), WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.kdc.SetFailure(&kdc.UnreachableError{Realm: testRealm})
	f.kdc.SetDelay(20 * time.Millisecond) // make the callers overlap
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 64 {
		wg.Go(func() {
			if _, err := src.ServiceTicket(context.Background(), webSPN); errors.Is(err, ErrKDCUnreachable) {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	f.kdc.SetDelay(0)
	if failed.Load() != 64 {
		t.Fatalf("%d of 64 calls failed with ErrKDCUnreachable", failed.Load())
	}
	first := ct.n.Load()
	for range 100 {
		_, err := src.ServiceTicket(context.Background(), webSPN)
		var be *BackoffError
		if !errors.As(err, &be) || !errors.Is(err, ErrKDCUnreachable) {
			t.Fatalf("call during the backoff: %v; want a BackoffError matching ErrKDCUnreachable", err)
		}
	}
	if n := ct.n.Load(); n != first || n > 2 {
		t.Fatalf("64 callers then 100 calls in the backoff: %d then %d KDC requests; want one login attempt (one or two exchanges)", first, n)
	}
	// The next attempt after a second, then after two more seconds.
	f.clock.Advance(time.Second)
	if _, err := src.ServiceTicket(context.Background(), webSPN); err == nil || ct.n.Load() == first {
		t.Fatalf("after 1 s: %v, %d requests; want another failed attempt", err, ct.n.Load())
	}
	second := ct.n.Load()
	f.kdc.SetFailure(nil)
	f.clock.Advance(time.Second)
	if _, err := src.ServiceTicket(context.Background(), webSPN); err == nil || ct.n.Load() != second {
		t.Fatalf("1 s after the second failure: %v, %d requests; want the 2 s backoff", err, ct.n.Load())
	}
	f.clock.Advance(time.Second)
	if _, err := src.ServiceTicket(context.Background(), webSPN); err != nil {
		t.Fatalf("KDC back, backoff over: %v", err)
	}
	s := src.Stats()
	if s.Logins != 1 || s.LoginFailures != 2 || s.ServiceTickets != 1 {
		t.Errorf("stats %+v; want 1 login, 2 login failures, 1 service ticket", s)
	}
}

// TestRefreshBackoffKeepsTicket: a stale ticket stays in use while its
// refresh fails, and the refresh is retried after the backoff, not on
// every call.
func TestRefreshBackoffKeepsTicket(t *testing.T) {
	f := newFixture(t)
	f.kdc.SetLifetime(40 * time.Second)
	ct := &countingTransport{Transport: f.kdc}
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", withTransport(ct), WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.ServiceTicket(t.Context(), webSPN)
	if err != nil {
		t.Fatal(err)
	}
	before := ct.n.Load()
	f.kdc.SetFailure(&kdc.UnreachableError{Realm: testRealm})
	f.clock.Advance(31 * time.Second) // past 30 s, the refresh point
	for range 50 {
		tkt, err := src.ServiceTicket(t.Context(), webSPN)
		if err != nil || !tkt.EndTime.Equal(first.EndTime) {
			t.Fatalf("stale ticket while the KDC is down: %v", err)
		}
	}
	if n := ct.n.Load() - before; n > 2 {
		t.Fatalf("50 calls with a failing refresh: %d KDC requests; want one attempt", n)
	}
	if s := src.Stats(); s.RefreshFailures == 0 {
		t.Errorf("stats %+v: no refresh failure counted", s)
	}
	f.kdc.SetFailure(nil)
	f.clock.Advance(time.Second)
	tkt, err := src.ServiceTicket(t.Context(), webSPN)
	if err != nil || !tkt.EndTime.After(first.EndTime) {
		t.Fatalf("after the backoff with the KDC back: %v, end %v; want a new ticket", err, tkt.EndTime)
	}
	f.clock.Advance(time.Minute)
	if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
		t.Fatal(err)
	}
}

// lifetimeRealm is a realm of its own with 8-second tickets, renewable
// for renew (0: not renewable).
func lifetimeRealm(t *testing.T, renew time.Duration) *kdctest.Realm {
	t.Helper()
	r := kdctest.Start(t, kdctest.WithLifetimes(8*time.Second, renew))
	if err := r.AddPrincipal("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddService(realSPN, false); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitRefresh waits, in real time, until tickets issued at start have
// passed their refresh point (6 s of 8).
func waitRefresh(start time.Time) { time.Sleep(time.Until(start.Add(6500 * time.Millisecond))) }

// TestRealRenewal: a keytab source renews its renewable TGT (a TGS
// exchange with RENEW) instead of logging in again, and a non-renewable
// one logs in again.
func TestRealRenewal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		renew time.Duration
	}{{"renewable", time.Minute}, {"not renewable", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := lifetimeRealm(t, tc.renew)
			kt, err := r.Keytab("alice")
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := LoadKeytab(kt)
			if err != nil {
				t.Fatal(err)
			}
			src, err := NewKeytabSource(realConfig(t, r), "alice", loaded)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			first, err := src.TGT(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := first.EndTime.Sub(first.StartTime); got > 8*time.Second {
				t.Fatalf("TGT lives %v; the realm issues 8 s", got)
			}
			if _, err := src.ServiceTicket(t.Context(), realSPN); err != nil {
				t.Fatal(err)
			}
			waitRefresh(start)
			if _, err := src.ServiceTicket(t.Context(), realSPN); err != nil {
				t.Fatal(err)
			}
			second, err := src.TGT(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			as, _ := r.ASCount("alice")
			tgs, _ := r.TGSCount("alice", realSPN)
			s := src.Stats()
			t.Logf("AS %d, TGS for the service %d, stats %+v", as, tgs, s)
			if !second.EndTime.After(first.EndTime) || tgs != 2 {
				t.Fatalf("after the refresh point: TGT ends %v (first %v), %d service tickets; want a new TGT and ticket", second.EndTime, first.EndTime, tgs)
			}
			wantAS, wantRenewals := 2, uint64(0)
			if tc.renew > 0 {
				wantAS, wantRenewals = 1, 1
				if !second.AuthTime.Equal(first.AuthTime) {
					t.Errorf("renewed TGT has auth time %v, first %v: a new login, not a renewal", second.AuthTime, first.AuthTime)
				}
			}
			// The second login pre-authenticated at once (the memo).
			if n, err := r.PreauthRequiredCount("alice"); err != nil || n != 1 {
				t.Errorf("the KDC asked for pre-authentication %d times (%v); want once, at the first login", n, err)
			}
			if as != wantAS || s.Renewals != wantRenewals || s.Logins != uint64(wantAS) || s.ServiceTickets != 2 || s.Refreshes != 2 {
				t.Fatalf("%d AS requests, stats %+v; want %d AS and %d renewals", as, s, wantAS, wantRenewals)
			}
		})
	}
}

// TestRealCCacheRenewal: with WithRenewal(true), a cache source renews the
// TGT kinit -r left and writes it to the cache as kinit -R does (klist
// shows the renewed TGT); without it, the TGT is used as it is. In each
// cache type MIT writes and reads on Linux: FILE, a real sssd_kcm's KCM
// collection, and a KEYRING collection.
func TestRealCCacheRenewal(t *testing.T) {
	for _, kind := range []string{"FILE", "KCM", "KEYRING"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			r := lifetimeRealm(t, time.Minute)
			cache := func() string { return "FILE:" + filepath.Join(t.TempDir(), "cc") }
			switch kind {
			case "KCM":
				if err := kdctest.StartKCM(t).Configure(r); err != nil {
					t.Fatal(err)
				}
				// kinit reinitializes alice's cache in the collection.
				cache = func() string { return "KCM:" }
			case "KEYRING":
				cache = func() string {
					residual := "session:renewal-" + strings.ToLower(rand.Text()[:10])
					n, err := keyring.ParseName(residual)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = keyring.NewCollection(n).Destroy(context.Background()) })
					return "KEYRING:" + residual
				}
			}
			for _, renew := range []bool{true, false} {
				checkCCacheRenewal(t, r, cache(), renew)
			}
		})
	}
}

func checkCCacheRenewal(t *testing.T, r *kdctest.Realm, cc string, renew bool) {
	t.Helper()
	start := time.Now()
	r.Kinit(t, "alice", cc, "-r", "60s")
	src, err := NewCCacheSource(realConfig(t, r), cc, "", WithRenewal(renew))
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.TGT(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	waitRefresh(start)
	if _, err := src.ServiceTicket(t.Context(), realSPN); err != nil {
		t.Fatal(err)
	}
	second, err := src.TGT(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Klist("-c", cc)
	if err != nil {
		t.Fatal(err)
	}
	s := src.Stats()
	t.Logf("%s, WithRenewal(%v): stats %+v; klist:\n%s", cc, renew, s, out)
	if !renew {
		if !second.EndTime.Equal(first.EndTime) || s.Renewals != 0 {
			t.Fatalf("without WithRenewal: TGT ends %v (first %v), stats %+v; want it untouched", second.EndTime, first.EndTime, s)
		}
		return
	}
	if !second.EndTime.After(first.EndTime) || s.Renewals != 1 {
		t.Fatalf("WithRenewal(true): TGT ends %v (first %v), stats %+v; want one renewal", second.EndTime, first.EndTime, s)
	}
	// kinit -R leaves the renewed TGT alone in the cache; the service
	// ticket got with it is written back after it.
	again, err := NewCCacheSource(realConfig(t, r), cc, "")
	if err != nil {
		t.Fatal(err)
	}
	reread, err := again.TGT(t.Context())
	if err != nil || !reread.EndTime.Equal(second.EndTime) {
		t.Fatalf("the cache holds a TGT ending %v (%v); want the renewed one, ending %v", reread.EndTime, err, second.EndTime)
	}
	if !strings.Contains(out, realSPN) {
		t.Errorf("klist does not list the service ticket written back after the renewal:\n%s", out)
	}
	// MIT reads the renewed TGT from the cache: klist's line for it shows
	// the renewed end (to the second, as klist prints it).
	want := second.EndTime.Local().Format("15:04:05")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "krbtgt/") && !strings.Contains(line, want) {
			t.Errorf("klist's TGT line does not show the renewed end %s:\n%s", want, out)
		}
	}
}

// TestReloginOneExchange: the first login costs two AS exchanges (the
// KDC asks for pre-authentication), the next ones one, with the
// enctype and salt it named the first time.
func TestReloginOneExchange(t *testing.T) {
	f := newFixture(t)
	ct := &countingTransport{Transport: f.kdc}
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", withTransport(ct), WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.TGT(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ct.n.Load(); n != 2 {
		t.Fatalf("first login: %d exchanges, want 2", n)
	}
	for i := range 3 {
		f.clock.Advance(8 * time.Hour) // past the refresh point of 10-hour TGTs
		if _, err := src.TGT(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := ct.n.Load(); n != int64(3+i) {
			t.Fatalf("login %d: %d exchanges in all, want %d", i+2, n, 3+i)
		}
	}
	if as := f.kdc.ASCount("alice"); as != 4 {
		t.Fatalf("%d TGTs issued, want 4", as)
	}
}

// TestExpiredCacheNotBackedOff: a cache whose TGT expired is no KDC
// failure: the kinit that follows is used at the next call.
func TestExpiredCacheNotBackedOff(t *testing.T) {
	f := newFixture(t)
	f.kdc.SetLifetime(time.Minute)
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, f.login(t, "alice"))
	src, err := NewCCacheSource(f.cfg, "FILE:"+path, "", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	for range 3 {
		if _, err := src.ServiceTicket(t.Context(), webSPN); !errors.Is(err, ErrExpired) {
			t.Fatalf("expired TGT: %v", err)
		}
	}
	writeCache(t, path, f.login(t, "alice")) // kinit
	if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
		t.Fatalf("right after kinit: %v", err)
	}
}
