package keyring_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/keyring"
)

// collection returns a collection with a fresh name under anchor, removed
// when the test ends. Session and user keyrings are shared by every
// process of the user, so each test gets names of its own.
func collection(t *testing.T, anchor string) (*keyring.Collection, string) {
	t.Helper()
	residual := anchor + ":krbhttp-" + strings.ToLower(rand.Text()[:10])
	n, err := keyring.ParseName(residual)
	if err != nil {
		t.Fatal(err)
	}
	c := keyring.NewCollection(n)
	t.Cleanup(func() { _ = keyring.DestroyCollection(context.Background(), c) })
	return c, "KEYRING:" + residual
}

// TestSessionInterop: MIT kinit and kvno write a session-anchored
// collection, we read; we store, MIT lists and uses it without the KDC.
func TestSessionInterop(t *testing.T) {
	r := ccachetest.StartRealm(t)
	coll, name := collection(t, keyring.AnchorSession)
	ctx := context.Background()
	r.Kinit(t, "alice", name)
	if out, err := r.Run("kvno", "-c", name, ccachetest.ServiceA); err != nil {
		t.Fatalf("kvno: %v %s", err, out)
	}
	primary, err := coll.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := primary.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Principal.String() != r.Alice || len(got.Credentials) != 2 {
		t.Fatalf("principal %s, %d credentials", got.Principal, len(got.Credentials))
	}

	if err := primary.Add(ctx, r.MITServiceTicket(t, ccachetest.ServiceB)); err != nil {
		t.Fatal(err)
	}
	r.CheckMITUses(t, name, ccachetest.ServiceB)
	var pc *ccache.PrincipalChangedError
	if err := primary.Add(ctx, ccachetest.Credential("mallory@KRBHTTP.TEST", "HTTP/x@KRBHTTP.TEST")); !errors.As(err, &pc) {
		t.Errorf("Add of another client's ticket: %v", err)
	}
}

// TestCollectionInterop: caches made by MIT and by us in one collection;
// klist -l lists ours, kswitch and SetPrimary move the primary both ways.
func TestCollectionInterop(t *testing.T) {
	r := ccachetest.StartRealm(t)
	if err := r.AddPrincipal("bob", "pw-bob"); err != nil {
		t.Fatal(err)
	}
	coll, name := collection(t, keyring.AnchorUser)
	ctx := context.Background()
	r.Kinit(t, "alice", name)
	r.Kinit(t, "bob", name)

	caches, err := coll.Caches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ccachetest.Principals(t, caches); len(got) != 2 || got[0] != r.Principal("bob") || got[1] != r.Alice {
		t.Fatalf("caches %v, want bob (primary, kinit switched to it) then alice", got)
	}
	// A cache of ours, made primary.
	s := ccachetest.NewPrimary(t, coll, "carol@KRBHTTP.TEST")
	out, err := r.Klist("-l", "-c", name)
	if err != nil || !strings.Contains(out, "carol@KRBHTTP.TEST") || !strings.Contains(out, s.Name()) {
		t.Fatalf("klist -l: %v\n%s", err, out)
	}
	if out, err := r.Klist("-c", name); err != nil || !strings.Contains(out, "Default principal: carol@") {
		t.Errorf("primary after SetPrimary: %v\n%s", err, out)
	}
	alice := caches[1].Name()
	if out, err := r.Run("kswitch", "-c", alice); err != nil {
		t.Fatalf("kswitch: %v %s", err, out)
	}
	if p, err := coll.Primary(ctx); err != nil || p.Name() != alice {
		t.Errorf("primary after kswitch = %v %v, want %s", p, err, alice)
	}
}

// TestProcessAndThreadAnchors: process and thread keyrings are private to
// the process; goroutines on any thread see one consistent cache.
func TestProcessAndThreadAnchors(t *testing.T) {
	for _, anchor := range []string{keyring.AnchorProcess, keyring.AnchorThread} {
		t.Run(anchor, func(t *testing.T) {
			coll, _ := collection(t, anchor)
			ctx := context.Background()
			p, err := coll.Primary(ctx)
			if err != nil {
				t.Fatal(err)
			}
			alice := ccachetest.Principal("alice@R")
			if err := p.Initialize(ctx, alice, nil); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Go(func() {
					if err := p.Add(ctx, ccachetest.Credential("alice@R", fmt.Sprintf("svc/%d@R", i))); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			got, err := p.Load(ctx)
			if err != nil || len(got.Credentials) != 32 {
				t.Fatalf("%v, %d credentials", err, len(got.Credentials))
			}
		})
	}
}

// TestBadKeys: a key that is not a credential, a principal key that is not
// a principal, a primary index of another version: typed errors, no panic.
func TestBadKeys(t *testing.T) {
	ctx := context.Background()
	coll, _ := collection(t, keyring.AnchorSession)
	p, err := coll.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Load(ctx); !errors.Is(err, ccache.ErrNotFound) {
		t.Fatalf("uninitialized: %v", err)
	}
	if err := p.Add(ctx, ccachetest.Credential("alice@R", "x@R")); !errors.Is(err, ccache.ErrNotFound) {
		t.Fatalf("Add to uninitialized: %v", err)
	}
	if err := p.Initialize(ctx, ccachetest.Principal("alice@R"), nil); err != nil {
		t.Fatal(err)
	}
	if err := keyring.AddRawKey(ctx, p.(*keyring.Cache), "HTTP/x@R", []byte("not a credential")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Load(ctx); !errors.Is(err, keyring.ErrBadKey) || !errors.Is(err, ccache.ErrMalformed) {
		t.Errorf("cache with a foreign key: %v", err)
	}
	if err := keyring.AddRawKey(ctx, p.(*keyring.Cache), "__krb5_princ__", []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Load(ctx); !errors.Is(err, ccache.ErrMalformed) {
		t.Errorf("bad principal key: %v", err)
	}
	if err := keyring.SetRawIndex(ctx, coll, []byte{0, 0, 0, 2, 0, 0, 0, 1, 'x'}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.Primary(ctx); !errors.Is(err, keyring.ErrBadKey) {
		t.Errorf("index version 2: %v", err)
	}
}

// TestPersistent runs in a user namespace of its own: persistent keyrings
// are per user namespace, so the test cannot touch the machine's.
func TestPersistent(t *testing.T) {
	if os.Getenv("KEYRING_TEST_IN_USERNS") == "" {
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(unshare, "--user", "--map-root-user", os.Args[0], "-test.run=^TestPersistent$", "-test.v")
		cmd.Env = append(os.Environ(), "KEYRING_TEST_IN_USERNS=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestPersistent") {
			t.Fatalf("in a user namespace: %v\n%s", err, out)
		}
		return
	}
	r := ccachetest.StartRealm(t)
	n, err := keyring.ParseName("persistent:0")
	if err != nil {
		t.Fatal(err)
	}
	coll := keyring.NewCollection(n)
	r.Kinit(t, "alice", "KEYRING:persistent:0")
	p, err := coll.Primary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Load(context.Background())
	if err != nil || got.Principal.String() != r.Alice {
		t.Fatalf("%v %+v", err, got)
	}
	if err := p.Add(context.Background(), r.MITServiceTicket(t, ccachetest.ServiceA)); err != nil {
		t.Fatal(err)
	}
	r.CheckMITUses(t, "KEYRING:persistent:0", ccachetest.ServiceA)
}
