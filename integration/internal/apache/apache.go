package apache

import (
	"errors"
	"fmt"
	"net/http"
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
)

// Packages lists the Debian packages this harness needs.
const Packages = "apache2 libapache2-mod-auth-gssapi"

const (
	binary     = "/usr/sbin/apache2"
	modulesDir = "/usr/lib/apache2/modules"
)

// Locations served by every instance.
const (
	// PathProtected answers 200 "hello from apache" after Negotiate, with
	// the server's mutual-authentication token and an X-Remote-User header.
	PathProtected = "/krb/index.html"
	// PathCorrupt is PathProtected with the server's token corrupted on the
	// way out, to prove that clients notice.
	PathCorrupt = "/krb-corrupt/index.html"
	// PathConnectionBound authenticates a connection once (GssapiConnectionBound)
	// and signals it with Persistent-Auth, as IIS does.
	PathConnectionBound = "/krb-conn/index.html"
	// PathPublic is the same file without authentication: the baseline
	// for what authentication costs the server.
	PathPublic = "/public/index.html"
	// PathMissing is a protected location with no file: a 404 after
	// authentication.
	PathMissing = "/krb/missing.html"
	// PathDelegation stores delegated credentials in a credential cache
	// (GssapiDelegCcacheDir) and runs a CGI that proves them usable: it
	// prints "user=<REMOTE_USER> ccache=<KRB5CCNAME>", then klist -f of
	// the cache and, given a service principal as query string ("?HTTP/host"),
	// the output of kvno for it, a service ticket obtained with the
	// delegated TGT.
	PathDelegation = "/krb-deleg/whoami.cgi"
)

// delegationCGI is the script behind PathDelegation. The query string
// reaches kvno only when it looks like a principal name.
const delegationCGI = `#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "user=$REMOTE_USER ccache=$KRB5CCNAME"
[ -n "$KRB5CCNAME" ] || exit 0
/usr/bin/klist -f 2>&1
case "$QUERY_STRING" in
'' | *[!A-Za-z0-9/._@-]*) exit 0 ;;
esac
/usr/bin/kvno "$QUERY_STRING" 2>&1
`

// Config says which keytab and krb5.conf the server uses.
type Config struct {
	Keytab     string // keytab with the HTTP/<host> key
	Krb5Config string // KRB5_CONFIG for the server
}

// Server is a running Apache.
type Server struct {
	URL string // http://localhost:PORT
	Dir string
	cmd *exec.Cmd
}

// Start starts Apache for the test and stops it when the test ends. It
// fails (never skips) when Apache or the module is missing.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New starts Apache in a new temporary directory; Stop stops it and
// removes the directory.
func New(cfg Config) (*Server, error) {
	for _, f := range []string{binary, filepath.Join(modulesDir, "mod_auth_gssapi.so")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("apache: %s missing: apt-get install -y %s", f, Packages)
		}
	}
	dir, err := os.MkdirTemp("", "krbhttp-apache-")
	if err != nil {
		return nil, err
	}
	s, err := start(dir, cfg)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(dir string, cfg Config) (*Server, error) {
	// Workers run as www-data when started by root: they must reach the
	// keytab through readable directories.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	keytab := filepath.Join(dir, "http.keytab")
	if err := harness.CopyPrivate(cfg.Keytab, keytab); err != nil {
		return nil, err
	}
	krb5conf := filepath.Join(dir, "krb5.conf")
	if err := harness.CopyPrivate(cfg.Krb5Config, krb5conf); err != nil {
		return nil, err
	}
	if err := shareWithWorkers(keytab, krb5conf); err != nil {
		return nil, err
	}
	for _, loc := range []string{"krb", "krb-corrupt", "krb-conn", "public"} {
		if err := os.MkdirAll(filepath.Join(dir, "htdocs", loc), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "htdocs", loc, "index.html"), []byte("hello from apache\n"), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "htdocs", "krb-deleg"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "htdocs", "krb-deleg", "whoami.cgi"), []byte(delegationCGI), 0o755); err != nil {
		return nil, err
	}
	// The workers write the replay cache and the delegated credential
	// caches.
	for _, d := range []string{"rcache", "deleg"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return nil, err
		}
		_ = os.Chmod(filepath.Join(dir, d), 0o777)
	}

	var lastErr error
	for range 3 {
		port, err := harness.FreePort()
		if err != nil {
			return nil, err
		}
		conf := filepath.Join(dir, "httpd.conf")
		if err := os.WriteFile(conf, []byte(httpdConf(dir, port, keytab, krb5conf)), 0o644); err != nil {
			return nil, err
		}
		cmd := exec.Command(binary, "-f", conf, "-DFOREGROUND")
		cmd.Env = append(os.Environ(), "KRB5_CONFIG="+krb5conf, "KRB5RCACHEDIR="+filepath.Join(dir, "rcache"),
			"KRB5_KTNAME="+keytab)
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
		s := &Server{URL: fmt.Sprintf("http://localhost:%d", port), Dir: dir, cmd: cmd}
		if lastErr = waitUp(port, 10*time.Second); lastErr == nil {
			return s, nil
		}
		s.kill()
		out, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		lastErr = fmt.Errorf("apache did not start: %w\n%s%s", lastErr, out, errLog)
	}
	return nil, lastErr
}

func httpdConf(dir string, port int, keytab, krb5conf string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %q\nServerName localhost\nListen 127.0.0.1:%d\nPidFile %q\n", dir, port, filepath.Join(dir, "httpd.pid"))
	fmt.Fprintf(&b, "ErrorLog %q\nLogLevel info auth_gssapi:debug\nDocumentRoot %q\n", filepath.Join(dir, "error.log"), filepath.Join(dir, "htdocs"))
	for _, m := range []string{"mpm_prefork", "authz_core", "authz_user", "authn_core", "auth_gssapi", "headers", "mime", "dir", "cgi", "env"} {
		fmt.Fprintf(&b, "LoadModule %s_module %s\n", m, filepath.Join(modulesDir, "mod_"+m+".so"))
	}
	if os.Geteuid() == 0 {
		b.WriteString("User www-data\nGroup www-data\n")
	}
	b.WriteString("StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\nKeepAlive On\nMaxKeepAliveRequests 1000\n")
	b.WriteString("TypesConfig /etc/mime.types\n")
	gssapi := fmt.Sprintf(`  AuthType GSSAPI
  AuthName "krbhttp"
  GssapiCredStore keytab:%s
  GssapiAllowedMech krb5
  Require valid-user
  Header always set X-Remote-User "expr=%%{REMOTE_USER}"
`, keytab)
	fmt.Fprintf(&b, "<Location /krb/>\n%s</Location>\n", gssapi)
	// Prepending "AAAA" (three zero bytes) to the token breaks its DER framing.
	fmt.Fprintf(&b, "<Location /krb-corrupt/>\n%s  Header edit WWW-Authenticate \"^Negotiate (.+)$\" \"Negotiate AAAA$1\"\n  Header always edit WWW-Authenticate \"^Negotiate (.+)$\" \"Negotiate AAAA$1\"\n</Location>\n", gssapi)
	fmt.Fprintf(&b, "<Location /krb-conn/>\n%s  GssapiConnectionBound On\n  GssapiSignalPersistentAuth On\n</Location>\n", gssapi)
	// The CGI's tools need the realm's krb5.conf; KRB5CCNAME comes from
	// mod_auth_gssapi when the client delegated.
	fmt.Fprintf(&b, "<Directory %q>\n  Options +ExecCGI\n  AddHandler cgi-script .cgi\n</Directory>\n", filepath.Join(dir, "htdocs", "krb-deleg"))
	fmt.Fprintf(&b, "<Location /krb-deleg/>\n%s  GssapiDelegCcacheDir %s\n  SetEnv KRB5_CONFIG %s\n</Location>\n", gssapi, filepath.Join(dir, "deleg"), krb5conf)
	return b.String()
}

// ErrorLog returns Apache's error log, for failure messages.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

// Stop stops Apache and removes its directory.
func (s *Server) Stop() {
	s.kill()
	_ = os.RemoveAll(s.Dir)
}

func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// SIGTERM to the group stops the parent and its prefork children.
	procgroup.Signal(s.cmd, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		procgroup.Signal(s.cmd, syscall.SIGKILL)
		<-done
	}
}

func waitUp(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("timed out waiting for the port")
}

// shareWithWorkers makes files readable by the www-data group, which
// Apache's workers run as under root, and by nobody else.
func shareWithWorkers(files ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	g, err := user.LookupGroup("www-data")
	if err != nil {
		return err
	}
	gid, _ := strconv.Atoi(g.Gid)
	for _, f := range files {
		if err := os.Chown(f, 0, gid); err != nil {
			return err
		}
		if err := os.Chmod(f, 0o640); err != nil {
			return err
		}
	}
	return nil
}
