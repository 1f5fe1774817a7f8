package credentials

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/file"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/memory"
)

// servers lists the server principals of the credentials in store.
func servers(t *testing.T, store ccache.Store) []string {
	t.Helper()
	c, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cr := range c.Credentials {
		out = append(out, cr.Server.String())
	}
	return out
}

// TestWriteBackFile: a ticket got from the KDC lands in the file the TGT
// came from, once however many goroutines asked, and the next source (the
// next run of a program) uses it instead of asking the KDC.
func TestWriteBackFile(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, f.login(t, "alice"))
	src, err := NewCCacheSource(f.cfg, "FILE:"+path, "", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := servers(t, file.Open(path))
	if want := []string{"krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", webSPN + "@EXAMPLE.TEST"}; !slices.Equal(got, want) {
		t.Fatalf("cache holds %v, want %v", got, want)
	}
	next, _ := NewCCacheSource(f.cfg, "FILE:"+path, "", f.opts()...)
	if _, err := next.ServiceTicket(t.Context(), webSPN); err != nil {
		t.Fatal(err)
	}
	if n := f.kdc.TGSCount(webSPN); n != 1 {
		t.Errorf("%d TGS requests, want 1 (the second source must use the written ticket)", n)
	}
}

// TestWriteBackOff: WithWriteBack(false) leaves the cache as kinit left it.
func TestWriteBackOff(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, f.login(t, "alice"))
	before, _ := os.ReadFile(path)
	for range 2 {
		src, _ := NewCCacheSource(f.cfg, path, "", f.opts(WithWriteBack(false))...)
		if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the cache was written")
	}
	if n := f.kdc.TGSCount(webSPN); n != 2 {
		t.Errorf("%d TGS requests, want 2", n)
	}
}

// TestWriteBackReferralName: a host no domain_realm entry maps (IP
// addresses never are) is stored under the empty realm, as MIT stores
// what it asked for with the referral realm, so MIT finds it; so do we.
func TestWriteBackReferralName(t *testing.T) {
	f := newFixture(t)
	for _, spn := range []string{"HTTP/unmapped.test", "HTTP/192.0.2.7"} {
		if err := f.kdc.AddService(spn); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "cc")
	writeCache(t, path, f.login(t, "alice"))
	for _, spn := range []string{"HTTP/unmapped.test", "HTTP/192.0.2.7", webSPN} {
		src, _ := NewCCacheSource(f.cfg, path, "", f.opts()...)
		if _, err := src.ServiceTicket(t.Context(), spn); err != nil {
			t.Fatal(err)
		}
		again, _ := NewCCacheSource(f.cfg, path, "", f.opts()...)
		if _, err := again.ServiceTicket(t.Context(), spn); err != nil {
			t.Fatal(err)
		}
		if n := f.kdc.TGSCount(spn); n != 1 {
			t.Errorf("%s: %d TGS requests, want 1", spn, n)
		}
	}
	got := servers(t, file.Open(path))
	for _, want := range []string{`HTTP/unmapped.test@`, `HTTP/192.0.2.7@`, webSPN + "@EXAMPLE.TEST"} {
		if !slices.Contains(got, want) {
			t.Errorf("cache lacks %s: %v", want, got)
		}
	}
}

// TestWriteBackDIR: the ticket goes to the cache of the collection the
// principal option picked, not to the primary.
func TestWriteBackDIR(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "cc")
	writeCache(t, filepath.Join(dir, "tktalice"), f.login(t, "alice"))
	writeCache(t, filepath.Join(dir, "tktbob"), f.login(t, "bob"))
	writeFile(t, filepath.Join(dir, "primary"), []byte("tktbob\n"))
	src, _ := NewCCacheSource(f.cfg, "DIR:"+dir, "alice", f.opts()...)
	if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
		t.Fatal(err)
	}
	if got := servers(t, file.Open(filepath.Join(dir, "tktalice"))); len(got) != 2 {
		t.Errorf("alice's cache: %v", got)
	}
	if got := servers(t, file.Open(filepath.Join(dir, "tktbob"))); len(got) != 1 {
		t.Errorf("bob's cache: %v", got)
	}
}

// TestWriteBackMemory: MEMORY: caches are shared within the process, so a
// second source finds the first one's ticket.
func TestWriteBackMemory(t *testing.T) {
	f := newFixture(t)
	name := fmt.Sprintf("writeback-%p", t)
	defer memory.Destroy(name)
	c, err := ccache.ForTickets(toTicket(f.login(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	if err := memory.Open(name).Initialize(t.Context(), c.Principal, c.Credentials); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		src, err := NewCCacheSource(f.cfg, "MEMORY:"+name, "", f.opts()...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.ServiceTicket(t.Context(), webSPN); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.kdc.TGSCount(webSPN); n != 1 {
		t.Errorf("%d TGS requests, want 1", n)
	}
	if got := servers(t, memory.Open(name)); len(got) != 2 {
		t.Errorf("memory cache: %v", got)
	}
}

// kcmServing is a KCM daemon holding one cache "1000" with creds that
// answers STORE with storeStatus.
func kcmServing(t *testing.T, principal ccache.Principal, creds []*ccache.Credential, storeStatus int32) string {
	list := binary.BigEndian.AppendUint32(nil, uint32(len(creds)))
	for _, c := range creds {
		b := ccache.MarshalCredential(nil, c)
		list = binary.BigEndian.AppendUint32(list, uint32(len(b)))
		list = append(list, b...)
	}
	return ccachetest.FakeKCM(t, false, func(op uint16, _ []byte) []byte {
		switch op {
		case ccachetest.KCMOpGetDefaultCache:
			return ccachetest.KCMReply(0, []byte("1000\x00"))
		case ccachetest.KCMOpGetPrincipal:
			return ccachetest.KCMReply(0, ccache.MarshalPrincipal(nil, principal))
		case ccachetest.KCMOpGetCredList:
			return ccachetest.KCMReply(0, list)
		case ccachetest.KCMOpStore:
			return ccachetest.KCMReply(storeStatus, nil)
		}
		return ccachetest.KCMReply(-1765328188, nil) // KRB5_FCC_INTERNAL
	})
}

// TestWriteBackRefused: a daemon refusing the write (sssd's quota, a
// permission) costs nothing but the write: the ticket is handed out.
func TestWriteBackRefused(t *testing.T) {
	f := newFixture(t)
	c, err := ccache.ForTickets(toTicket(f.login(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	f.cfg.KCMSocket = kcmServing(t, c.Principal, c.Credentials, -1765328190) // KRB5_FCC_PERM
	src, err := NewCCacheSource(f.cfg, "KCM:", "", f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	tkt, err := src.ServiceTicket(t.Context(), webSPN)
	if err != nil || tkt.Client.PrincipalNameString() != "alice" {
		t.Fatalf("the refused write leaked into the result: %v", err)
	}
}

// TestKCMDaemonFaults: a daemon that answers garbage or never answers
// gives a typed error within the context's time.
func TestKCMDaemonFaults(t *testing.T) {
	f := newFixture(t)
	f.cfg.KCMSocket = ccachetest.FakeKCM(t, false, func(uint16, []byte) []byte { return []byte("garbage, not a KCM reply") })
	src, _ := NewCCacheSource(f.cfg, "KCM:", "", f.opts()...)
	if _, err := src.ServiceTicket(t.Context(), webSPN); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}

	block := make(chan struct{})
	defer close(block)
	f.cfg.KCMSocket = ccachetest.FakeKCM(t, false, func(uint16, []byte) []byte { <-block; return nil })
	src, _ = NewCCacheSource(f.cfg, "KCM:", "", f.opts()...)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := src.ServiceTicket(ctx, webSPN)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging daemon: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	f.cfg.KCMSocket = filepath.Join(t.TempDir(), "no-daemon")
	src, _ = NewCCacheSource(f.cfg, "KCM:", "", f.opts()...)
	if _, err := src.ServiceTicket(t.Context(), webSPN); !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "sssd-kcm") {
		t.Errorf("no daemon: %v", err)
	}
}
