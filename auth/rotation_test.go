package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// These tests rotate a service's key in a real MIT KDC while clients run:
// kadmin ktadd gives the service a new key and kvno, and the server is
// switched to a keytab holding only the new key, as a service restarted
// after a rotation is. Tickets issued before are then refused.

const rotatedSPN = "HTTP/web.krbhttp.test"

// rotatingServer is our acceptor in front of whoami with the service's
// current keytab, which rotate replaces.
type rotatingServer struct {
	srv     *httptest.Server
	realm   *kdctest.Realm
	handler atomic.Pointer[http.Handler]
}

func newRotatingServer(t *testing.T, r *kdctest.Realm, keytabPath string) *rotatingServer {
	t.Helper()
	s := &rotatingServer{realm: r}
	s.use(t, keytabPath)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		(*s.handler.Load()).ServeHTTP(w, req)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *rotatingServer) use(t *testing.T, keytabPath string) {
	t.Helper()
	kt, err := keytab.Load(keytabPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := acceptor.New(kt)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Wrap(whoami())
	s.handler.Store(&h)
}

func (s *rotatingServer) rotate(t *testing.T) {
	t.Helper()
	path, err := s.realm.RotateKey(rotatedSPN)
	if err != nil {
		t.Fatal(err)
	}
	s.use(t, path)
}

// rotationRealm is a realm with alice and the service.
func rotationRealm(t *testing.T) (*kdctest.Realm, *krb5conf.Config, string) {
	t.Helper()
	r := kdctest.Start(t)
	if err := r.AddPrincipal("alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	kt, err := r.AddService(rotatedSPN, false)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := krb5conf.LoadFiles(r.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return r, conf, kt
}

// runClients has n goroutines send requests through c until the server
// has been rotated and every goroutine has had `after` successes since;
// rotate runs once all have had `before` successes. It returns the number
// of failed requests.
func runClients(t *testing.T, c *http.Client, url string, n, before, after int, rotate func()) (failed int32, total int32) {
	t.Helper()
	var (
		fails, sent atomic.Int32
		warm, done  sync.WaitGroup
		rotated     = make(chan struct{})
	)
	warm.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			ok, warmed := 0, false
			for i := 0; ; i++ {
				if i > 100*(before+after) {
					t.Errorf("no end after %d requests", i)
					return
				}
				sent.Add(1)
				resp, err := c.Get(url)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					fails.Add(1)
					t.Logf("request failed: %v", describe(resp, err))
					continue
				}
				ok++
				if !warmed && ok == before {
					warmed = true
					warm.Done()
					<-rotated
					ok = 0
				} else if warmed && ok == after {
					return
				}
			}
		}()
	}
	warm.Wait()
	rotate()
	close(rotated)
	done.Wait()
	return fails.Load(), sent.Load()
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d, %v", resp.StatusCode, auth.ResponseError(resp))
}

// TestServiceKeyRotation: clients keep working across a rotation of the
// service's key: at most one request may fail (none does: the refused
// ticket is dropped and the request retried with a fresh one), and the
// KDC issues one service ticket before the rotation and one after, for 1
// and for 64 concurrent clients, with a password login and with a kinit'ed
// cache that also holds the old service ticket (kvno put it there).
func TestServiceKeyRotation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		clients int
		cache   bool
	}{
		{"password/1 client", 1, false},
		{"password/64 clients", 64, false},
		{"ccache with the old ticket/1 client", 1, true},
		{"ccache with the old ticket/64 clients", 64, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, conf, kt := rotationRealm(t)
			s := newRotatingServer(t, r, kt)
			opts := []auth.Option{auth.WithConfig(conf), auth.WithHostnameOverride("web.krbhttp.test")}
			if c.cache {
				cc := "FILE:" + filepath.Join(t.TempDir(), "cc")
				r.Kinit(t, "alice", cc)
				if out, err := r.Run("kvno", "-c", cc, rotatedSPN); err != nil {
					t.Fatalf("kvno: %v\n%s", err, out)
				}
				opts = append(opts, auth.WithCCache(cc))
			} else {
				opts = append(opts, auth.WithPrincipal("alice"), auth.WithPassword("alice-password"))
			}
			client, err := auth.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			tgs0, _ := r.TGSCount("alice", rotatedSPN)
			var tgsBefore int
			failed, total := runClients(t, client, s.srv.URL, c.clients, rounds(c.clients), rounds(c.clients), func() {
				tgsBefore, _ = r.TGSCount("alice", rotatedSPN)
				s.rotate(t)
			})
			tgsAfter, _ := r.TGSCount("alice", rotatedSPN)
			t.Logf("%d clients, %d requests: %d failed; service tickets from the KDC: %d before the rotation, %d after",
				c.clients, total, failed, tgsBefore-tgs0, tgsAfter-tgsBefore)
			wantBefore := 1
			if c.cache {
				wantBefore = 0 // kvno's ticket, read from the cache
			}
			if failed > 1 || tgsBefore-tgs0 != wantBefore || tgsAfter-tgsBefore != 1 {
				t.Fatalf("%d failed requests, %d and %d service tickets; want at most 1, %d and 1", failed, tgsBefore-tgs0, tgsAfter-tgsBefore, wantBefore)
			}
		})
	}
}

// TestServiceRefusingEveryTicket: a server whose keytab matches no ticket
// the KDC issues (its key was rotated again after the keytab was written)
// gets its 401s back, and costs one service-ticket request beyond the
// first in all, not one per HTTP request.
func TestServiceRefusingEveryTicket(t *testing.T) {
	t.Parallel()
	r, conf, kt := rotationRealm(t)
	s := newRotatingServer(t, r, kt)
	if _, err := r.RotateKey(rotatedSPN); err != nil { // the server keeps the old keytab
		t.Fatal(err)
	}
	client, err := auth.NewClient(auth.WithConfig(conf), auth.WithHostnameOverride("web.krbhttp.test"),
		auth.WithPrincipal("alice"), auth.WithPassword("alice-password"))
	if err != nil {
		t.Fatal(err)
	}
	const requests = 20
	for range requests {
		resp, err := client.Get(s.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	}
	tgs, _ := r.TGSCount("alice", rotatedSPN)
	t.Logf("%d requests refused: %d service tickets from the KDC", requests, tgs)
	if tgs != 2 {
		t.Fatalf("%d service tickets for %d refused requests, want 2 (the first, and one retry)", tgs, requests)
	}
}

// rounds is how many successes each of n clients needs before and after
// the rotation: fewer for many clients, which make many requests anyway.
func rounds(n int) int {
	if n > 8 {
		return 1
	}
	return 5
}
