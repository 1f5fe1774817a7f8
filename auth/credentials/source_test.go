package credentials

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

const webSPN = "HTTP/web.example.test"

func TestPasswordSourceSingleFlight(t *testing.T) {
	f := newFixture(t)
	f.kdc.SetDelay(20 * time.Millisecond) // make the requests overlap
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			tkt, err := src.ServiceTicket(context.Background(), webSPN)
			if err == nil && tkt.Ticket.SName.PrincipalNameString() != webSPN {
				err = errors.New("wrong ticket " + tkt.Ticket.SName.PrincipalNameString())
			}
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
	if as, tgs := f.kdc.ASCount("alice"), f.kdc.TGSCount(webSPN); as != 1 || tgs != 1 {
		t.Fatalf("%d goroutines caused %d AS and %d TGS requests, want 1 and 1", n, as, tgs)
	}
	// A different SPN is its own request; the TGT is reused.
	if _, err := src.ServiceTicket(context.Background(), "HTTP/other.example.test"); err != nil {
		t.Fatal(err)
	}
	if as := f.kdc.ASCount("alice"); as != 1 {
		t.Errorf("AS count %d", as)
	}
}

func TestPasswordSourceRefresh(t *testing.T) {
	f := newFixture(t)
	src, err := NewPasswordSource(f.cfg, "alice@EXAMPLE.TEST", "alice-pw", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := src.ServiceTicket(ctx, webSPN)
	if err != nil {
		t.Fatal(err)
	}
	// 10h tickets: refreshed after 7.5h (DefaultRefreshFraction).
	f.clock.Advance(7 * time.Hour)
	if _, err := src.ServiceTicket(ctx, webSPN); err != nil {
		t.Fatal(err)
	}
	if tgs := f.kdc.TGSCount(webSPN); tgs != 1 {
		t.Fatalf("after 7h: %d TGS requests, want 1 (still fresh)", tgs)
	}
	f.clock.Advance(time.Hour)
	second, err := src.ServiceTicket(ctx, webSPN)
	if err != nil {
		t.Fatal(err)
	}
	if as, tgs := f.kdc.ASCount("alice"), f.kdc.TGSCount(webSPN); as != 2 || tgs != 2 {
		t.Fatalf("after 8h: %d AS, %d TGS; want a new login and a new ticket", as, tgs)
	}
	if !second.EndTime.After(first.EndTime) {
		t.Errorf("refreshed ticket ends %v, first %v", second.EndTime, first.EndTime)
	}
	// With the KDC down, the old ticket is still handed out until it expires.
	f.clock.Advance(9*time.Hour + 30*time.Minute)
	f.kdc.SetFailure(&kdc.UnreachableError{Realm: testRealm})
	if _, err := src.ServiceTicket(ctx, webSPN); err != nil {
		t.Fatalf("stale but valid ticket not used: %v", err)
	}
	f.clock.Advance(time.Hour)
	_, err = src.ServiceTicket(ctx, webSPN)
	if !errors.Is(err, ErrKDCUnreachable) {
		t.Fatalf("expired and KDC down: %v", err)
	}
}

func TestPasswordSourceErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src, err := NewPasswordSource(f.cfg, "alice", "wrong", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.ServiceTicket(ctx, webSPN)
	var ke *KDCError
	if !errors.Is(err, ErrPreauthFailed) || !errors.As(err, &ke) || ke.Code != 24 {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the password leaks into %q", err)
	}
	want := "credentials: service ticket for HTTP/web.example.test (client alice@EXAMPLE.TEST): KDC error KDC_ERR_PREAUTH_FAILED (24)"
	if err.Error() != want {
		t.Errorf("message\n %q\nwant\n %q", err, want)
	}
	src, _ = NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts()...)
	if _, err := src.ServiceTicket(ctx, "HTTP/nowhere.example.test"); !errors.Is(err, ErrPrincipalUnknown) {
		t.Fatalf("unknown SPN: %v", err)
	}
	if _, err := src.ServiceTicket(ctx, "nonsense"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad SPN: %v", err)
	}
	if _, err := NewPasswordSource(f.cfg, "alice", ""); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("empty password: %v", err)
	}
	if _, err := NewPasswordSource(f.cfg, "alice", "x", WithRefreshFraction(1.5)); err == nil {
		t.Fatal("negative refresh accepted")
	}
}

func TestUnreachableMessage(t *testing.T) {
	f := newFixture(t)
	// The real network transport, to a port where nothing listens.
	src, err := NewPasswordSource(f.cfg, "alice", "alice-pw", WithKDCTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = src.ServiceTicket(ctx, webSPN)
	if !errors.Is(err, ErrKDCUnreachable) {
		t.Fatalf("err = %v", err)
	}
	prefix := "credentials: service ticket for HTTP/web.example.test (client alice@EXAMPLE.TEST): KDC unreachable: "
	if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("message %q", err)
	}
}

func TestKeytabSource(t *testing.T) {
	f := newFixture(t)
	kt, err := f.kdc.UserKeytab("bob")
	if err != nil {
		t.Fatal(err)
	}
	// No principal: the keytab's first entry.
	src, err := NewKeytabSource(f.cfg, "", kt, f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if src.Principal() != "bob@EXAMPLE.TEST" {
		t.Errorf("principal %q", src.Principal())
	}
	tkt, err := src.ServiceTicket(context.Background(), webSPN)
	if err != nil {
		t.Fatal(err)
	}
	if tkt.Client.PrincipalNameString() != "bob" {
		t.Errorf("client %v", tkt.Client)
	}
	other, _ := NewKeytabSource(f.cfg, "alice", kt, f.opts()...)
	if _, err := other.TGT(context.Background()); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("keytab without alice: %v", err)
	}
}

func TestForwardedTGT(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src, _ := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts(WithForwardable(true))...)
	fwd, err := src.ForwardedTGT(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !types.IsFlagSet(&fwd.Flags, flags.Forwarded) || fwd.Ticket.SName.PrincipalNameString() != "krbtgt/EXAMPLE.TEST" {
		t.Errorf("forwarded TGT flags %x server %v", fwd.Flags.Bytes, fwd.Ticket.SName)
	}
	tgt, err := src.TGT(ctx)
	if err != nil || !types.IsFlagSet(&tgt.Flags, flags.Forwardable) {
		t.Fatalf("TGT %v", err)
	}
	plain, _ := NewPasswordSource(f.cfg, "bob", "bob-pw", f.opts(WithForwardable(false))...)
	if _, err := plain.ForwardedTGT(ctx); !errors.Is(err, ErrNotForwardable) {
		t.Errorf("not forwardable: %v", err)
	}
}

// TestFlightLeaderCancelled: a waiter whose leader's context ends must not
// inherit the cancellation; it asks the KDC itself. The test runs in a
// synctest bubble, so "the leader is inside the KDC exchange" and "the
// waiter is waiting for the leader" are reached exactly (synctest.Wait),
// not guessed with sleeps; the fake KDC's delay runs on the bubble's clock.
func TestFlightLeaderCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		f.kdc.SetDelay(100 * time.Millisecond)
		src, _ := NewPasswordSource(f.cfg, "alice", "alice-pw", f.opts()...)
		leaderCtx, cancel := context.WithCancel(context.Background())
		leaderErr := make(chan error, 1)
		go func() {
			_, err := src.ServiceTicket(leaderCtx, webSPN)
			leaderErr <- err
		}()
		synctest.Wait() // the leader waits for the KDC
		waiterErr := make(chan error, 1)
		go func() {
			_, err := src.ServiceTicket(context.Background(), webSPN)
			waiterErr <- err
		}()
		synctest.Wait() // the waiter waits for the leader
		cancel()
		if err := <-leaderErr; !errors.Is(err, context.Canceled) {
			t.Errorf("leader: %v", err)
		}
		if err := <-waiterErr; err != nil {
			t.Errorf("waiter must retry on its own after the leader gave up: %v", err)
		}
	})
}

func TestCCacheSourceFile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, f.login(t, "alice"))
	src, err := NewCCacheSource(f.cfg, "FILE:"+path, "", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tkt, err := src.ServiceTicket(ctx, webSPN)
		if err != nil {
			t.Fatal(err)
		}
		if tkt.Client.PrincipalNameString() != "alice" {
			t.Fatalf("client %v", tkt.Client)
		}
	}
	if n := f.kdc.TGSCount(webSPN); n != 1 {
		t.Fatalf("TGS count %d", n)
	}
	// kinit as bob into the same cache: picked up at the next call, and
	// alice's tickets are forgotten.
	writeCache(t, path, f.login(t, "bob"))
	tkt, err := src.ServiceTicket(ctx, webSPN)
	if err != nil {
		t.Fatal(err)
	}
	if tkt.Client.PrincipalNameString() != "bob" || f.kdc.TGSCount(webSPN) != 2 {
		t.Fatalf("after re-kinit: client %v, TGS count %d", tkt.Client, f.kdc.TGSCount(webSPN))
	}
	// Expired TGT.
	f.clock.Advance(11 * time.Hour)
	_, err = src.ServiceTicket(ctx, "HTTP/other.example.test")
	if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "TGT of bob@EXAMPLE.TEST expired") {
		t.Fatalf("expired: %v", err)
	}
	// Explicit principal that the file does not hold.
	other, _ := NewCCacheSource(f.cfg, path, "alice", f.opts()...)
	_, err = other.ServiceTicket(ctx, webSPN)
	var pm *PrincipalMismatchError
	if !errors.As(err, &pm) || !errors.Is(err, ErrNoCredentials) || pm.Want != "alice@EXAMPLE.TEST" || pm.Have != "bob@EXAMPLE.TEST" {
		t.Fatalf("mismatch: %v", err)
	}
	if !strings.Contains(err.Error(), "alice@EXAMPLE.TEST") || !strings.Contains(err.Error(), "bob@EXAMPLE.TEST") {
		t.Errorf("message must name both principals: %q", err)
	}
}

func TestCCacheSourceUsesStoredTicket(t *testing.T) {
	f := newFixture(t)
	path, st := f.cacheWithServiceTicket(t)
	src, _ := NewCCacheSource(f.cfg, path, "alice", f.opts()...)
	tkt, err := src.ServiceTicket(context.Background(), webSPN)
	if err != nil {
		t.Fatal(err)
	}
	if f.kdc.TGSCount(webSPN) != 1 || !tkt.EndTime.Equal(st.EndTime) {
		t.Errorf("the ticket in the cache was not used (TGS count %d)", f.kdc.TGSCount(webSPN))
	}
}

func TestCCacheSourceBadFiles(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeCache(t, good, f.login(t, "alice"))
	b, _ := readFileBytes(good)
	cases := map[string]struct {
		content []byte
		want    error
	}{
		"empty":     {[]byte{}, ErrNoCredentials},
		"truncated": {b[:len(b)-10], ErrMalformed},
		"garbage":   {[]byte("not a cache"), ErrMalformed},
	}
	for name, tc := range cases {
		p := filepath.Join(dir, name)
		writeFile(t, p, tc.content)
		src, _ := NewCCacheSource(f.cfg, p, "", f.opts()...)
		if _, err := src.ServiceTicket(context.Background(), webSPN); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	src, _ := NewCCacheSource(f.cfg, filepath.Join(dir, "missing"), "", f.opts()...)
	if _, err := src.TGT(context.Background()); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("missing: %v", err)
	}
	if _, err := NewCCacheSource(f.cfg, "API:", "", f.opts()...); !errors.Is(err, ErrUnsupportedCCache) {
		t.Errorf("API: %v", err)
	}
	// A config-driven default name resolves through the injected env.
	f.cfg.Env = fakeEnv(map[string]string{"KRB5CCNAME": "FILE:" + good})
	src, _ = NewCCacheSource(f.cfg, "", "", f.opts()...)
	if src.Name() != "FILE:"+good {
		t.Errorf("default name %q", src.Name())
	}
	if _, err := src.TGT(context.Background()); err != nil {
		t.Errorf("default cache: %v", err)
	}
}

func TestCCacheSourceDIR(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	writeCache(t, filepath.Join(dir, "tktAAA"), f.login(t, "alice"))
	writeCache(t, filepath.Join(dir, "tktBBB"), f.login(t, "bob"))
	writeFile(t, filepath.Join(dir, "primary"), []byte("tktAAA\n"))
	client := func(cacheName, principal string) (string, error) {
		src, err := NewCCacheSource(f.cfg, cacheName, principal, f.opts()...)
		if err != nil {
			return "", err
		}
		tkt, err := src.TGT(ctx)
		if err != nil {
			return "", err
		}
		return tkt.Client.PrincipalNameString(), nil
	}
	for _, tc := range []struct{ cache, principal, want string }{
		{"DIR:" + dir, "", "alice"},
		{"DIR:" + dir, "bob", "bob"},
		{"DIR:" + dir, "alice@EXAMPLE.TEST", "alice"},
		{"DIR::" + filepath.Join(dir, "tktBBB"), "", "bob"},
	} {
		got, err := client(tc.cache, tc.principal)
		if err != nil || got != tc.want {
			t.Errorf("%s %q: %q %v, want %q", tc.cache, tc.principal, got, err, tc.want)
		}
	}
	if _, err := client("DIR:"+dir, "carol"); !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "carol@EXAMPLE.TEST") {
		t.Errorf("carol: %v", err)
	}
	if _, err := client("DIR:"+dir, "Alice"); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("principal match must be case-sensitive: %v", err)
	}
	// The primary switches (kswitch): the source follows.
	src, _ := NewCCacheSource(f.cfg, "DIR:"+dir, "", f.opts()...)
	if tkt, _ := src.TGT(ctx); tkt.Client.PrincipalNameString() != "alice" {
		t.Fatal("primary")
	}
	writeFile(t, filepath.Join(dir, "primary"), []byte("tktBBB\n"))
	if tkt, err := src.TGT(ctx); err != nil || tkt.Client.PrincipalNameString() != "bob" {
		t.Errorf("after kswitch: %v", err)
	}
	// A named principal follows its cache when it moves to another file.
	byName, _ := NewCCacheSource(f.cfg, "DIR:"+dir, "alice", f.opts()...)
	if _, err := byName.TGT(ctx); err != nil {
		t.Fatal(err)
	}
	writeCache(t, filepath.Join(dir, "tktAAA"), f.login(t, "bob"))
	writeCache(t, filepath.Join(dir, "tktCCC"), f.login(t, "alice"))
	if tkt, err := byName.TGT(ctx); err != nil || tkt.Client.PrincipalNameString() != "alice" {
		t.Errorf("after move: %v", err)
	}
	// No primary file: MIT falls back to DIR/tkt.
	empty := t.TempDir()
	if _, err := client("DIR:"+empty, ""); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("empty collection: %v", err)
	}
}

func TestCCacheForwardedTGT(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, f.login(t, "alice"))
	src, _ := NewCCacheSource(f.cfg, path, "", f.opts()...)
	fwd, err := src.ForwardedTGT(context.Background())
	if err != nil || !types.IsFlagSet(&fwd.Flags, flags.Forwarded) {
		t.Fatalf("forwarded: %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "service ticket", Principal: "alice@R", SPN: "HTTP/h", Err: errors.New("boom")}, "credentials: service ticket for HTTP/h (client alice@R): boom"},
		{&Error{Op: "login", Principal: "alice@R", Err: errors.New("boom")}, "credentials: login (client alice@R): boom"},
		{&Error{Op: "parse krb5.conf", Err: errors.New("x")}, "credentials: parse krb5.conf: x"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
