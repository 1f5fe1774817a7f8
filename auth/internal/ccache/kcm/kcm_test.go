package kcm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/kcm"
	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// lab is a realm and a private sssd_kcm named in its krb5.conf.
func lab(t *testing.T) (*ccachetest.Realm, *kcm.Client) {
	t.Helper()
	r := ccachetest.StartRealm(t)
	d := kdctest.StartKCM(t)
	if err := d.Configure(r.Realm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sssd_kcm log:\n%s", d.Log())
		}
	})
	return r, &kcm.Client{Socket: d.Socket}
}

// TestSSSDInterop: MIT writes into sssd_kcm and we read; we store and MIT
// lists and uses what we stored without asking the KDC.
func TestSSSDInterop(t *testing.T) {
	r, c := lab(t)
	ctx := context.Background()
	r.Kinit(t, "alice", "KCM:")
	if out, err := r.Run("kvno", "-c", "KCM:", ccachetest.ServiceA); err != nil {
		t.Fatalf("kvno: %v %s", err, out)
	}

	primary, err := c.Collection().Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if primary.Name() != "KCM:0" {
		t.Errorf("primary = %s, want KCM:0 (sssd names a uid's first cache by the uid)", primary.Name())
	}
	got, err := primary.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var servers []string
	for _, cr := range got.Credentials {
		servers = append(servers, cr.Server.String())
	}
	if got.Principal.String() != r.Alice || !slices.Contains(servers, "krbtgt/KRBHTTP.TEST@KRBHTTP.TEST") || !slices.Contains(servers, r.Principal(ccachetest.ServiceA)) {
		t.Fatalf("principal %s, credentials %v", got.Principal, servers)
	}

	b := r.MITServiceTicket(t, ccachetest.ServiceB)
	if err := primary.Add(ctx, b); err != nil {
		t.Fatal(err)
	}
	r.CheckMITUses(t, "KCM:", ccachetest.ServiceB)

	// A cache that belongs to someone else is not written to.
	err = primary.Add(ctx, ccachetest.Credential("mallory@KRBHTTP.TEST", "HTTP/x@KRBHTTP.TEST"))
	var pc *ccache.PrincipalChangedError
	if !errors.As(err, &pc) {
		t.Errorf("Add of another client's ticket: %v", err)
	}
}

// TestSSSDCollection: caches made by MIT and by us in one collection,
// listed primary first; the primary follows kswitch both ways.
func TestSSSDCollection(t *testing.T) {
	r, c := lab(t)
	ctx := context.Background()
	if err := r.AddPrincipal("bob", "pw-bob"); err != nil {
		t.Fatal(err)
	}
	r.Kinit(t, "alice", "KCM:")
	r.Kinit(t, "bob", "KCM:") // a second cache, now primary (MIT switches)

	coll := c.Collection()
	caches, err := coll.Caches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	principals := ccachetest.Principals(t, caches)
	if len(principals) != 2 || principals[0] != r.Principal("bob") || principals[1] != r.Alice {
		t.Fatalf("caches %v, want bob (primary) then alice", principals)
	}

	// A cache of ours, made primary.
	s := ccachetest.NewPrimary(t, coll, "carol@KRBHTTP.TEST")
	out, err := r.Klist("-l", "-c", "KCM:")
	if err != nil {
		t.Fatalf("klist -l: %v", err)
	}
	for _, want := range []string{"carol@KRBHTTP.TEST", s.Name(), r.Alice, r.Principal("bob")} {
		if !strings.Contains(out, want) {
			t.Errorf("klist -l lacks %s:\n%s", want, out)
		}
	}
	if out, err := r.Klist("-c", "KCM:"); err != nil || !strings.Contains(out, "Default principal: carol@") {
		t.Errorf("primary after SetPrimary: %v\n%s", err, out)
	}

	// kswitch by MIT moves the primary for us too.
	if out, err := r.Run("kswitch", "-c", "KCM:0"); err != nil {
		t.Fatalf("kswitch: %v %s", err, out)
	}
	p, err := coll.Primary(ctx)
	if err != nil || p.Name() != "KCM:0" {
		t.Errorf("primary after kswitch = %v, %v", p, err)
	}
}

// TestSSSDNotFound: an empty collection and an unknown cache are
// ErrNotFound, and the daemon's socket missing is ErrUnavailable.
func TestSSSDNotFound(t *testing.T) {
	_, c := lab(t)
	ctx := context.Background()
	if _, err := c.Load(ctx, "0"); !errors.Is(err, ccache.ErrNotFound) {
		t.Errorf("Load of an uninitialized cache: %v", err)
	}
	caches, err := c.Collection().Caches(ctx)
	if err != nil || len(caches) != 0 {
		t.Errorf("empty collection: %v %v", caches, err)
	}
	if err := c.Store(ctx, "0", ccachetest.Credential("a@R", "b@R")); !errors.Is(err, ccache.ErrNotFound) {
		t.Errorf("Store into an uninitialized cache: %v", err)
	}
	gone := &kcm.Client{Socket: c.Socket + ".missing"}
	if _, err := gone.DefaultName(ctx); !errors.Is(err, ccache.ErrUnavailable) {
		t.Errorf("no daemon: %v", err)
	}
}
