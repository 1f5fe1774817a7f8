package squid

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/integration/internal/harness"
	"github.com/krbhttp/krbhttp/integration/internal/procgroup"
	"github.com/krbhttp/krbhttp/integration/lab"
)

// Packages lists the Debian packages this harness needs.
const Packages = "squid"

const (
	binary      = "/usr/sbin/squid"
	authProgram = "/usr/lib/squid/negotiate_kerberos_auth"
)

// Config says how the proxy authenticates.
type Config struct {
	// Keytab holds the key of SPN; Krb5Config is the KRB5_CONFIG of the
	// proxy and its negotiate_kerberos_auth.
	Keytab     string
	Krb5Config string
	// SPN is the proxy's own principal, HTTP/<the host clients name the
	// proxy by>@REALM.
	SPN string
	// Hosts are names the proxy resolves to 127.0.0.1 (from a hosts
	// file of its own), besides localhost: clients reach loopback
	// servers by these names, which Go's ProxyFromEnvironment, unlike
	// curl, never sends to a proxy when they are localhost.
	Hosts []string
	// Open lets every request through without authentication (no
	// proxy_auth ACL): a proxy that answers CONNECT with 200 at once.
	Open bool
}

// Proxy is a running Squid.
type Proxy struct {
	// URL is http://127.0.0.1:PORT: clients name the proxy by address,
	// so that its principal (HTTP/127.0.0.1) differs from the servers'
	// (HTTP/localhost).
	URL string
	Dir string
	cmd *exec.Cmd
}

// Start starts Squid for the test and stops it when the test ends. It
// fails (never skips) when Squid or negotiate_kerberos_auth is missing.
func Start(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// New starts Squid in a new temporary directory; Stop stops it and
// removes the directory.
func New(cfg Config) (*Proxy, error) {
	for _, f := range []string{binary, authProgram} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("squid: %s missing: apt-get install -y %s", f, Packages)
		}
	}
	dir, err := os.MkdirTemp("", "krbhttp-squid-")
	if err != nil {
		return nil, err
	}
	p, err := start(dir, cfg)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

func start(dir string, cfg Config) (*Proxy, error) {
	keytab := filepath.Join(dir, "proxy.keytab")
	if err := harness.CopyPrivate(cfg.Keytab, keytab); err != nil {
		return nil, err
	}
	krb5conf := filepath.Join(dir, "krb5.conf")
	if err := harness.CopyPrivate(cfg.Krb5Config, krb5conf); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "rcache"), 0o700); err != nil {
		return nil, err
	}
	hosts := "127.0.0.1 localhost " + strings.Join(cfg.Hosts, " ") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return nil, err
	}
	// Squid refuses to run as root: under root it switches to the proxy
	// user, which must own its directory, logs and keytab.
	if err := giveToProxyUser(dir); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 {
		port, err := harness.FreePort()
		if err != nil {
			return nil, err
		}
		conf := filepath.Join(dir, "squid.conf")
		if err := os.WriteFile(conf, []byte(squidConf(dir, port, keytab, cfg)), 0o644); err != nil {
			return nil, err
		}
		// -N: in the foreground, one process (plus its negotiate_kerberos_auth children), so that
		// the process group holds everything.
		cmd := exec.Command(binary, "-N", "-f", conf)
		cmd.Env = append(os.Environ(), "KRB5_CONFIG="+krb5conf, "KRB5RCACHEDIR="+filepath.Join(dir, "rcache"))
		procgroup.Set(cmd)
		log, err := os.Create(filepath.Join(dir, "stderr.log"))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			log.Close()
			return nil, err
		}
		log.Close()
		p := &Proxy{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir, cmd: cmd}
		if lastErr = waitUp(port, 15*time.Second); lastErr == nil {
			return p, nil
		}
		p.kill()
		lastErr = fmt.Errorf("squid did not start: %w\n%s", lastErr, p.Logs())
	}
	return nil, lastErr
}

func squidConf(dir string, port int, keytab string, cfg Config) string {
	on := func(b bool) string {
		if b {
			return ""
		}
		return "# "
	}
	return strings.NewReplacer(
		"@LISTEN@", fmt.Sprintf("127.0.0.1:%d", port),
		"@DIR@", dir,
		"@HOSTS@", filepath.Join(dir, "hosts"),
		"@KEYTAB@", keytab,
		"@SPN@", cfg.SPN,
		"@ROOT@", on(os.Geteuid() == 0),
		"@AUTH@", on(!cfg.Open),
		"@OPEN@", on(cfg.Open),
	).Replace(lab.SquidConf)
}

// AccessLog returns Squid's access log: one line per request or tunnel,
// "... TCP_MISS/200 ... GET http://host:port/path alice@REALM ..." or
// "... TCP_TUNNEL/200 ... CONNECT host:port alice@REALM ...".
func (p *Proxy) AccessLog() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "access.log"))
	return string(b)
}

// Logs returns Squid's cache log and standard error, for failure
// messages.
func (p *Proxy) Logs() string {
	a, _ := os.ReadFile(filepath.Join(p.Dir, "stderr.log"))
	b, _ := os.ReadFile(filepath.Join(p.Dir, "cache.log"))
	return string(a) + string(b)
}

// Stop stops Squid and removes its directory.
func (p *Proxy) Stop() {
	p.kill()
	_ = os.RemoveAll(p.Dir)
}

func (p *Proxy) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	procgroup.Signal(p.cmd, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		procgroup.Signal(p.cmd, syscall.SIGKILL)
		<-done
	}
	// negotiate_kerberos_auth children that outlived Squid belong to the same group.
	procgroup.Signal(p.cmd, syscall.SIGKILL)
}

// waitUp waits until Squid accepts connections and answers.
func waitUp(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, err = fmt.Fprintf(c, "GET cache_object://127.0.0.1/info HTTP/1.0\r\n\r\n")
			buf := make([]byte, 12)
			if err == nil {
				_, err = c.Read(buf)
			}
			c.Close()
			if err == nil && strings.HasPrefix(string(buf), "HTTP/") {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("timed out waiting for the port")
}

// giveToProxyUser hands dir and what it holds to the proxy user when
// running as root.
func giveToProxyUser(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("proxy")
	if err != nil {
		return fmt.Errorf("squid: the proxy user is missing (it comes with the squid package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(path, uid, gid)
	})
}
