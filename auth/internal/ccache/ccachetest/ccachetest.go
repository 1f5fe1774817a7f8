package ccachetest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/file"
	"github.com/krbhttp/krbhttp/auth/kdctest"
)

// Principal parses "a/b@R" (no escapes) into a cache principal.
func Principal(s string) ccache.Principal {
	name, realm, _ := strings.Cut(s, "@")
	nt := int32(1)
	if strings.Contains(name, "/") {
		nt = 2
	}
	return ccache.Principal{NameType: nt, Components: strings.Split(name, "/"), Realm: realm}
}

// Credential makes a synthetic credential of client for server, valid for
// an hour from now. Its ticket is a well-formed DER header over filler:
// klist lists it, nothing can use it.
func Credential(client, server string) *ccache.Credential {
	now := time.Now().UTC().Truncate(time.Second)
	filler := bytes.Repeat([]byte{0x42}, 64)
	return &ccache.Credential{
		Client:    Principal(client),
		Server:    Principal(server),
		Key:       ccache.Key{EncType: 18, Value: bytes.Repeat([]byte{7}, 32)},
		AuthTime:  now,
		StartTime: now,
		EndTime:   now.Add(time.Hour),
		Flags:     0x40e00000,
		Ticket:    append([]byte{0x61, byte(len(filler))}, filler...),
	}
}

// Realm is a throwaway MIT realm with alice (password) and two services.
type Realm struct {
	*kdctest.Realm
	Alice string // alice@REALM
}

// Services the realm has, for kvno.
const (
	ServiceA = "HTTP/a.krbhttp.test"
	ServiceB = "HTTP/b.krbhttp.test"
)

// StartRealm starts the realm; it is stopped when t ends.
func StartRealm(t testing.TB) *Realm {
	t.Helper()
	r := kdctest.Start(t)
	if err := r.AddPrincipal("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ServiceA, ServiceB} {
		if _, err := r.AddService(s, false); err != nil {
			t.Fatal(err)
		}
	}
	return &Realm{Realm: r, Alice: r.Principal("alice")}
}

// MITServiceTicket returns a real service ticket of alice for spn, got by
// MIT kinit and kvno in a cache of its own.
func (r *Realm) MITServiceTicket(t testing.TB, spn string) *ccache.Credential {
	t.Helper()
	path := filepath.Join(t.TempDir(), "donor")
	r.Kinit(t, "alice", "FILE:"+path)
	if out, err := r.Run("kvno", "-c", "FILE:"+path, spn); err != nil {
		t.Fatalf("kvno: %v: %s", err, out)
	}
	c, err := file.Open(path).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range c.Credentials {
		if cr.Server.String() == r.Principal(spn) {
			return cr
		}
	}
	t.Fatalf("kvno left no ticket for %s", spn)
	return nil
}

// CheckMITUses checks that MIT's klist lists a ticket for spn in cache
// (any name MIT accepts) and that kvno uses it without asking the KDC: what
// a ticket written into the cache must allow.
func (r *Realm) CheckMITUses(t testing.TB, cache, spn string) {
	t.Helper()
	out, err := r.Klist("-c", cache)
	if err != nil || !strings.Contains(out, r.Principal(spn)) {
		t.Fatalf("klist -c %s does not list %s: %v\n%s", cache, spn, err, out)
	}
	before, err := r.TGSCount("alice", spn)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := r.Run("kvno", "-c", cache, spn); err != nil {
		t.Fatalf("kvno: %v %s", err, out)
	}
	if after, _ := r.TGSCount("alice", spn); after != before {
		t.Errorf("kvno asked the KDC for %s (%d -> %d TGS requests) instead of using the ticket in %s", spn, before, after, cache)
	}
}

// Principals loads each cache and returns its default principal, in order.
func Principals(t testing.TB, caches []ccache.Store) []string {
	t.Helper()
	var out []string
	for _, s := range caches {
		c, err := s.Load(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		out = append(out, c.Principal.String())
	}
	return out
}

// NewPrimary makes a new cache in coll holding principal and a synthetic
// TGT, and makes it the primary, as kinit into a collection does.
func NewPrimary(t testing.TB, coll ccache.Collection, principal string) ccache.Store {
	t.Helper()
	ctx := context.Background()
	s, err := coll.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := Principal(principal)
	if err := s.Initialize(ctx, p, []*ccache.Credential{Credential(principal, "krbtgt/"+p.Realm+"@"+p.Realm)}); err != nil {
		t.Fatal(err)
	}
	if err := coll.SetPrimary(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s
}
