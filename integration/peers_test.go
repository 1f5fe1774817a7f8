package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/integration/internal/apache"
)

// sharedApache is one Apache for the tests that need it.
var sharedApache shared[*apache.Server]

// startApache shares one Apache among the tests that need it.
func startApache(t *testing.T) *apache.Server {
	t.Helper()
	return sharedApache.get(t, func() (*apache.Server, func(), error) {
		s, err := apache.New(apache.Config{Keytab: env.httpKeytab, Krb5Config: env.realm.ConfigPath})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Stop, nil
	})
}

// shared holds a server started once for the whole test binary. It lives
// as long as the binary (stopped by TestMain's cleanups), since no single
// test's cleanup may stop it while others still use it; a failure to
// start it fails every test that asks.
type shared[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (s *shared[T]) get(t *testing.T, start func() (T, func(), error)) T {
	t.Helper()
	s.once.Do(func() {
		var stop func()
		s.v, stop, s.err = start()
		if s.err == nil {
			addCleanup(stop)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.v
}

func TestApacheMutualAuthentication(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	c := client(t, auth.WithCCache(kinit(t, "alice")))
	resp, err := c.Get(a.URL + apache.PathProtected)
	if err != nil {
		t.Fatalf("%v\n%s", err, a.ErrorLog())
	}
	resp.Body.Close()
	// Under MutualRequired a 200 only comes back when mod_auth_gssapi's
	// token verified; check the token was there and who Apache saw.
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate ") ||
		resp.Header.Get("X-Remote-User") != "alice@"+env.realm.Realm {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
}

func TestApacheCorruptedTokenIsRefused(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	c := client(t, auth.WithCCache(kinit(t, "alice")))
	_, err := c.Get(a.URL + apache.PathCorrupt)
	var me *auth.MutualAuthenticationError
	if !errors.As(err, &me) {
		t.Fatalf("error %v, want a MutualAuthenticationError", err)
	}
}

func TestApacheConnectionBound(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	c := client(t, auth.WithCCache(kinit(t, "alice")))
	for range 3 {
		resp, err := c.Get(a.URL + apache.PathConnectionBound)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func TestApacheRawKerberosAndPreemptive(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	c := client(t, auth.WithCCache(kinit(t, "alice")), auth.WithRawKerberos(), auth.WithPreemptive(auth.PreemptiveAlways))
	for range 2 {
		resp, err := c.Get(a.URL + apache.PathProtected)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// runTool runs a command line tool with the realm's configuration and the
// given cache, returning its exit code and output.
func runTool(t *testing.T, ccache string, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+env.realm.ConfigPath, "KRB5CCNAME="+ccache)
	return runCommand(t, cmd)
}

// runCommand runs cmd and returns its exit code and output. A command
// that exited and left its output pipes to a child that lives on (a Wine
// service) counts as exited.
func runCommand(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func TestKrbcurlAgainstApache(t *testing.T) {
	t.Parallel()
	a := startApache(t)
	bin := krbcurl(t)
	cc := kinit(t, "alice")

	code, out, errOut := runTool(t, cc, bin, "-i", a.URL+apache.PathProtected)
	if code != 0 || !strings.Contains(out, "hello from apache") || !strings.Contains(out, "X-Remote-User: alice@") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runTool(t, cc, bin, a.URL+apache.PathCorrupt)
	if code != 10 || !strings.Contains(errOut, "mutual authentication") {
		t.Fatalf("corrupted token: exit %d (want 10), stderr %q", code, errOut)
	}
	code, _, errOut = runTool(t, "FILE:"+filepath.Join(t.TempDir(), "none"), bin, a.URL+apache.PathProtected)
	if code != 11 || !strings.Contains(errOut, "HTTP/localhost") {
		t.Fatalf("no ticket: exit %d (want 11), stderr %q", code, errOut)
	}
	code, _, _ = runTool(t, cc, bin, "--fail", a.URL+apache.PathMissing)
	if code != 22 {
		t.Fatalf("--fail on 404: exit %d, want 22", code)
	}
}

func TestCurlNegotiateAgainstOurAcceptor(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	code, out, errOut := runTool(t, kinit(t, "alice"), "curl", "-sS", "--negotiate", "-u", ":", srv.URL+"/whoami")
	if code != 0 || !strings.HasPrefix(out, "alice@"+env.realm.Realm) {
		t.Fatalf("curl exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestRequestsKerberosAgainstOurAcceptor(t *testing.T) {
	t.Parallel()
	srv := startServer(t, env.httpKeytab, nil)
	// REQUIRED mutual authentication: requests-kerberos raises unless our
	// AP-REP verifies with MIT's GSSAPI.
	script := `import sys, requests, requests_kerberos as rk
r = requests.get(sys.argv[1], auth=rk.HTTPKerberosAuth(mutual_authentication=rk.REQUIRED))
print(r.status_code, r.text)`
	code, out, errOut := runTool(t, kinit(t, "alice"), "/usr/bin/python3", "-c", script, srv.URL+"/whoami")
	if code != 0 || !strings.HasPrefix(out, "200 alice@"+env.realm.Realm) {
		t.Fatalf("python exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
