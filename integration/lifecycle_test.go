package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// The ticket lifecycle soak: one Transport logging in with a keytab, 64
// goroutines sending GETs to our acceptor for soakDuration, in a realm
// whose tickets live soakLife (compressed time: a day of 8-hour tickets
// is a few minutes of 30-second ones), while three faults happen one
// after the other: the KDC is stopped for soakOutage (across a refresh
// point), the service's key is rotated (the server switched to a keytab
// holding only the new key), and the server is restarted. The KDC's own
// log counts what it was asked.
const (
	soakDuration   = 120 * time.Second
	soakLife       = 30 * time.Second
	soakRenew      = 10 * time.Minute
	soakOutage     = 6 * time.Second
	soakGoroutines = 64
	soakPause      = 100 * time.Millisecond // between one goroutine's requests: load, not a CPU benchmark
	soakSPN        = "HTTP/localhost"
	soakFaults     = 3
	// The bounds: the first login and service ticket, one replacement
	// per refresh point (120 s / 22.5 s: five), one service ticket after
	// the rotation, one spare.
	soakMaxAS  = 8
	soakMaxTGS = 8
)

// TestTicketLifecycleSoak runs the soak with renewable TGTs (renewed by
// TGS, so few logins) and with non-renewable ones (a login per refresh).
// It asserts the KDC request counts from the KDC log, at most one failed
// request per goroutine per fault while the server is up, and that
// goroutines and open files return to their baseline. Both variants run
// at once; no other test of the package runs meanwhile (the test is not
// parallel), so the process-wide counts are the soak's.
func TestTicketLifecycleSoak(t *testing.T) {
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	t.Run("variants", func(t *testing.T) {
		for _, v := range []struct {
			name  string
			renew time.Duration
		}{{"renewable", soakRenew}, {"not-renewable", 0}} {
			t.Run(v.name, func(t *testing.T) {
				t.Parallel()
				soak(t, v.renew)
			})
		}
	})
	// Bounded wait: connections and the KDC processes wind down.
	deadline := time.Now().Add(15 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), openFDs(t)
		if g <= goroutines && f <= fds {
			t.Logf("goroutines %d (baseline %d), open files %d (baseline %d)", g, goroutines, f, fds)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after the soak: %d goroutines (baseline %d), %d open files (baseline %d)\n%s",
				g, goroutines, f, fds, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func soak(t *testing.T, renew time.Duration) {
	r := kdctest.Start(t, kdctest.WithLifetimes(soakLife, renew))
	const user = "soak"
	if err := r.AddPrincipal(user, "soak-password"); err != nil {
		t.Fatal(err)
	}
	clientKT, err := r.Keytab(user)
	if err != nil {
		t.Fatal(err)
	}
	serviceKT, err := r.AddService(soakSPN, false)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := krb5conf.LoadFiles(r.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := newSoakServer(t, serviceKT)
	defer srv.close()

	tr, err := auth.NewTransport(nil, auth.WithConfig(conf), auth.WithPrincipal(user), auth.WithKeytab(clientKT))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	ctx, stop := context.WithTimeout(t.Context(), soakDuration)
	defer stop()
	failures := make([]int, soakGoroutines)
	var sent, ok, down atomic.Int64
	var wg sync.WaitGroup
	for g := range soakGoroutines {
		wg.Go(func() {
			for ctx.Err() == nil {
				gen := srv.gen.Load()
				err := soakGet(c, srv.url)
				sent.Add(1)
				switch {
				case err == nil:
					ok.Add(1)
				case gen%2 == 1 || srv.gen.Load() != gen:
					down.Add(1) // the server was down or restarted meanwhile
				default:
					failures[g]++
					if failures[g] <= soakFaults {
						t.Logf("goroutine %d: %v", g, err)
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(soakPause):
				}
			}
		})
	}

	// The faults, each in its own quarter of the run. The KDC outage
	// begins 40 s in, so it spans the refresh point at 45 s (two
	// refreshes of 30-second tickets after the first login).
	at := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(start(ctx).Add(d))):
			return true
		}
	}
	if at(40 * time.Second) {
		t.Log("stopping the KDC")
		if err := r.Stop(); err != nil {
			t.Error(err)
		}
		time.Sleep(soakOutage)
		if err := r.Restart(); err != nil {
			t.Error(err)
		}
		t.Log("KDC back")
	}
	if at(60 * time.Second) {
		path, err := r.RotateKey(soakSPN)
		if err != nil {
			t.Error(err)
		} else if err := srv.use(path); err != nil {
			t.Error(err)
		}
		t.Log("service key rotated")
	}
	if at(90 * time.Second) {
		if err := srv.restart(); err != nil {
			t.Error(err)
		}
		t.Log("server restarted")
	}
	wg.Wait()

	as, err := r.ASCount(user)
	if err != nil {
		t.Fatal(err)
	}
	tgs, err := r.TGSCount(user, soakSPN)
	if err != nil {
		t.Fatal(err)
	}
	worst, total := 0, 0
	for _, n := range failures {
		worst, total = max(worst, n), total+n
	}
	t.Logf("%d requests in %v: %d OK, %d failed while the server was up (at most %d per goroutine), %d while it was down; KDC: %d AS, %d TGS for %s; stats %+v",
		sent.Load(), soakDuration, ok.Load(), total, worst, down.Load(), as, tgs, soakSPN, tr.CredentialStats())
	if as > soakMaxAS || tgs > soakMaxTGS {
		t.Errorf("the KDC issued %d TGTs and %d service tickets; want at most %d and %d", as, tgs, soakMaxAS, soakMaxTGS)
	}
	if worst > soakFaults {
		t.Errorf("a goroutine had %d failed requests while the server was up; want at most one per fault (%d)", worst, soakFaults)
	}
	if ok.Load() < soakGoroutines {
		t.Errorf("only %d requests succeeded", ok.Load())
	}
	if s := tr.CredentialStats(); s.Logins != uint64(as) {
		t.Errorf("the transport counted %d logins, the KDC log %d", s.Logins, as)
	}
}

// start is when the soak began: its context's deadline less its length.
func start(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d.Add(-soakDuration)
}

// soakGet sends one GET and reads the answer; an error or a status other
// than 200 is a failure.
func soakGet(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		reason := auth.ResponseError(resp)
		if reason == nil {
			reason = errors.New(resp.Status)
		}
		return reason
	}
	return nil
}

// soakServer is our acceptor on a fixed loopback port that can be
// restarted (the same address again) and switched to another keytab.
// gen is odd while it is down, and grows at each stop and start.
type soakServer struct {
	url     string
	addr    string
	handler atomic.Pointer[http.Handler]
	gen     atomic.Int64

	mu  sync.Mutex // guards srv
	srv *http.Server
}

func newSoakServer(t *testing.T, keytabPath string) *soakServer {
	t.Helper()
	s := &soakServer{}
	if err := s.use(keytabPath); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	_, port, _ := net.SplitHostPort(s.addr)
	s.url = "http://localhost:" + port + "/"
	s.serve(ln)
	return s
}

// use switches the server to the keys in keytabPath, as a service
// restarted with a new keytab after a key rotation.
func (s *soakServer) use(keytabPath string) error {
	kt, err := credentials.LoadKeytab(keytabPath)
	if err != nil {
		return err
	}
	a, err := acceptor.New(kt)
	if err != nil {
		return err
	}
	h := a.Wrap(whoamiHandler())
	s.handler.Store(&h)
	return nil
}

func (s *soakServer) serve(ln net.Listener) {
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*s.handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// restart closes the server and its connections and serves the same
// address again.
func (s *soakServer) restart() error {
	s.gen.Add(1)
	s.close()
	var ln net.Listener
	var err error
	for range 50 { // bounded: the port is ours, freed by Close
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.serve(ln)
	s.gen.Add(1)
	return nil
}

func (s *soakServer) close() {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	_ = srv.Close()
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
