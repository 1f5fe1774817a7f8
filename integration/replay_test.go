package integration

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/redisstore/redistest"
)

// Replay protection of the iislike process, end to end: tokens made by our
// initiator and by MIT's (python3-gssapi), captured and sent again after a
// flood, across a restart, to another replica, and while Redis is down.

// capture makes one authenticated request with our transport (a fresh
// AP-REQ, as with per-request authentication) and returns the
// Authorization value it sent, now accepted by p.
func capture(t *testing.T, p *iisProcess, cc string) string {
	t.Helper()
	spy := &authzSpy{base: p.base()}
	tr, err := auth.NewTransport(spy, auth.WithConfig(env.conf), auth.WithCCache(cc), auth.WithPreemptive(auth.PreemptiveAlways))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	whoamiOK(t, &http.Client{Transport: tr}, p.URL)
	if len(spy.sent) != 1 {
		t.Fatalf("%d tokens sent, want 1", len(spy.sent))
	}
	return spy.sent[0]
}

// mitTokens makes n initial context tokens for HTTP/localhost with MIT's
// GSSAPI (python3-gssapi) from the ticket cache cc: half SPNEGO, half raw
// Kerberos, as browsers and Python clients send them.
func mitTokens(t *testing.T, cc string, n int) []string {
	t.Helper()
	script := `import base64, sys, gssapi
name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
mechs = [gssapi.OID.from_int_seq("1.3.6.1.5.5.2"), gssapi.MechType.kerberos]
for i in range(int(sys.argv[1])):
    ctx = gssapi.SecurityContext(name=name, usage="initiate", mech=mechs[i % 2],
                                 flags=gssapi.RequirementFlag.mutual_authentication)
    print("Negotiate " + base64.b64encode(ctx.step()).decode())`
	code, out, errOut := runTool(t, cc, "/usr/bin/python3", "-c", script, fmt.Sprint(n))
	tokens := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(tokens) != n {
		t.Fatalf("python3-gssapi: exit %d, %d tokens, stderr %q", code, len(tokens), errOut)
	}
	return tokens
}

// statuses sends each Authorization value once and counts the statuses.
func statuses(t *testing.T, p *iisProcess, authz ...string) map[int]int {
	t.Helper()
	got := map[int]int{}
	for _, a := range authz {
		got[rawGet(t, p.URL, a)]++
	}
	return got
}

// fresh makes n new authentications with our transport (a token each,
// preemptively) and counts the statuses; it never fails on a status.
func fresh(t *testing.T, p *iisProcess, cc string, n int) map[int]int {
	t.Helper()
	c := p.client(t, auth.WithCCache(cc), auth.WithPreemptive(auth.PreemptiveAlways))
	got := map[int]int{}
	for range n {
		resp, err := c.Get(p.URL + "/whoami")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got[resp.StatusCode]++
	}
	return got
}

// TestReplayAfterFlood: more fresh authenticators than the replay cache
// holds, all inside the window, do not make it forget: once it is full,
// new authentications get 503 (fail closed, logged), and the tokens
// captured before the flood, ours and MIT's, are still refused as replays.
func TestReplayAfterFlood(t *testing.T) {
	t.Parallel()
	const bound = 150
	p := startIISLike(t, false, "--persistent-auth=false", "-v", fmt.Sprint("--replay-cache-size=", bound))
	cc := kinit(t, "alice")
	ours := capture(t, p, cc)
	mit := mitTokens(t, cc, 2)
	if got := statuses(t, p, mit...); got[200] != 2 {
		t.Fatalf("MIT's tokens: %v, want two 200s", got)
	}
	// The flood: 2 x the bound, from our client and from MIT's.
	got := fresh(t, p, cc, bound)
	for s, n := range statuses(t, p, mitTokens(t, cc, bound)...) {
		got[s] += n
	}
	if want := (map[int]int{200: bound - 3, 503: bound + 3}); got[200] != want[200] || got[503] != want[503] || len(got) != 2 {
		t.Fatalf("flood of %d fresh authentications: %v, want %v", 2*bound, got, want)
	}
	if got := statuses(t, p, ours, mit[0], mit[1]); got[401] != 3 || replaysLogged(p, 3) != 3 {
		t.Fatalf("tokens captured before the flood, replayed: %v, %d logged as replays; want three 401s for replays (not 503)", got, replaysLogged(p, 3))
	}
	if logged(p, "level=ERROR msg=\"acceptor: authentication refused, the replay store cannot record it (fail closed)\"", 1) == 0 || logged(p, "replay cache full", 1) == 0 {
		t.Fatalf("iislike log does not report the full cache at error level:\n%s", p.Log())
	}
}

// TestReplayAfterRestart: with --replay-cache, tokens accepted before a
// crash (SIGKILL) or a clean stop are refused after the restart, while new
// ones are accepted.
func TestReplayAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flags := []string{"--persistent-auth=false", "-v", "--replay-cache", dir}
	cc := kinit(t, "alice")
	p := startIISLike(t, false, flags...)
	ours := capture(t, p, cc)
	mit := mitTokens(t, cc, 2)
	if got := statuses(t, p, mit...); got[200] != 2 {
		t.Fatalf("MIT's tokens: %v, want two 200s", got)
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		p.stop(t, sig)
		p = startIISLike(t, false, flags...)
		if got := statuses(t, p, ours, mit[0], mit[1]); got[401] != 3 || replaysLogged(p, 3) != 3 {
			t.Fatalf("after a restart (%v): replayed tokens got %v, %d logged as replays; want three 401s for replays", sig, got, replaysLogged(p, 3))
		}
		if got := fresh(t, p, cc, 3); got[200] != 3 {
			t.Fatalf("after a restart (%v): new authentications got %v", sig, got)
		}
		if !strings.Contains(p.Log(), "iislike: replay cache in "+dir) {
			t.Fatalf("iislike does not say where its replay cache is:\n%s", p.Log())
		}
	}
	// The file is the process's own while it runs.
	second := startIISLikeErr(t, flags...)
	if !strings.Contains(second, "in use by another process") {
		t.Fatalf("a second iislike on the same --replay-cache: %q, want a refusal naming the lock", second)
	}
}

// logged counts the lines of p's log that contain s, waiting up to 5 s
// for the count to reach want: a line may come after the response.
func logged(p *iisProcess, s string, want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for line := range strings.Lines(p.Log()) {
			if strings.Contains(line, s) {
				n++
			}
		}
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replaysLogged counts the authentications p refused as replays (it needs
// -v).
func replaysLogged(p *iisProcess, want int) int { return logged(p, "replayed authenticator", want) }

// startIISLikeErr runs iislike expecting it to fail at start, and returns
// its error output.
func startIISLikeErr(t *testing.T, flags ...string) string {
	t.Helper()
	code, _, errOut := runTool(t, "FILE:/dev/null", tool(t, "github.com/krbhttp/krbhttp/integration/cmd/iislike"),
		append([]string{"--keytab", env.httpKeytab, "--listen", "127.0.0.1:0"}, flags...)...)
	if code == 0 {
		t.Fatal("iislike exited 0")
	}
	return errOut
}

// TestReplayAcrossReplicas: two iislike replicas sharing a Redis server: a
// token accepted by one is refused by the other, for ours and MIT's, and
// of one fresh token sent to both at once exactly one accepts it.
func TestReplayAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	flags := []string{"--persistent-auth=false", "--replay-redis", srv.Addr}
	a, b := startIISLike(t, false, flags...), startIISLike(t, false, flags...)
	cc := kinit(t, "alice")
	ours := capture(t, a, cc)
	if got := statuses(t, b, ours); got[401] != 1 {
		t.Fatalf("our token accepted by replica A, then sent to B: %v, want 401", got)
	}
	mit := mitTokens(t, cc, 12)
	if got := statuses(t, b, mit[:2]...); got[200] != 2 {
		t.Fatalf("MIT's tokens at replica B: %v, want 200s", got)
	}
	if got := statuses(t, a, mit[:2]...); got[401] != 2 {
		t.Fatalf("MIT's tokens accepted by B, then sent to A: %v, want 401s", got)
	}
	// Races: each token to both replicas at the same instant.
	for _, tok := range mit[2:] {
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, p := range []*iisProcess{a, b} {
			wg.Go(func() { codes[i] = rawGet(t, p.URL, tok) })
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 401 || codes[0] == 401 && codes[1] == 200) {
			t.Fatalf("one token to both replicas at once: %v, want one 200 and one 401", codes)
		}
	}
}

// TestReplayRedisOutage: Redis stopped mid-run. A fail-closed replica
// refuses new authentications with 503 and logs the outage; a fail-open
// one accepts them and logs that replay protection is off. Once Redis is
// back, authentications succeed again without restarting anything, and a
// token accepted before the outage is still refused (Redis's append-only
// file kept it).
func TestReplayRedisOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	closed := startIISLike(t, false, "--persistent-auth=false", "-v", "--replay-redis", srv.Addr)
	other := startIISLike(t, false, "--persistent-auth=false", "-v", "--replay-redis", srv.Addr)
	open := startIISLike(t, false, "--persistent-auth=false", "--replay-redis", srv.Addr, "--replay-redis-fail-open")
	cc := kinit(t, "alice")
	before := capture(t, closed, cc)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := fresh(t, closed, cc, 3); got[503] != 3 {
		t.Fatalf("Redis down, fail closed: %v, want three 503s", got)
	}
	if got := statuses(t, closed, mitTokens(t, cc, 1)...); got[503] != 1 {
		t.Fatalf("Redis down, fail closed, MIT's token: %v, want 503", got)
	}
	if got := fresh(t, open, cc, 3); got[200] != 3 {
		t.Fatalf("Redis down, fail open: %v, want three 200s", got)
	}
	if logged(closed, "level=ERROR msg=\"redisstore: Redis unavailable: refusing authentications (fail closed)\"", 1) == 0 {
		t.Fatalf("fail-closed replica's log:\n%s", closed.Log())
	}
	if logged(open, "level=ERROR msg=\"redisstore: Redis unavailable: REPLAY PROTECTION OFF", 1) == 0 {
		t.Fatalf("fail-open replica's log:\n%s", open.Log())
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The clients reconnect by themselves; bounded wait for the first
	// success, though the first request normally succeeds.
	deadline := time.Now().Add(10 * time.Second)
	for fresh(t, closed, cc, 1)[200] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Redis back: still no 200 after 10 s:\n%s", closed.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := statuses(t, closed, before); got[401] != 1 || replaysLogged(closed, 1) != 1 {
		t.Fatalf("token accepted before the outage, replayed after: %v, want 401 for a replay", got)
	}
	if got := statuses(t, other, before); got[401] != 1 || replaysLogged(other, 1) != 1 {
		t.Fatalf("the same to another replica: %v, want 401 for a replay", got)
	}
	if logged(closed, "Redis available again", 1) == 0 {
		t.Fatalf("recovery not logged:\n%s", closed.Log())
	}
}
