package pykdcproxy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/integration/lab"
)

// Packages lists the Debian packages this harness needs.
const Packages = "python3-kdcproxy"

const python = "/usr/bin/python3"

// Config says what the proxy serves.
type Config struct {
	// Realms maps each realm served to its KDC, host:port.
	Realms map[string]string
	// CertFile and KeyFile are the server's PEM certificate and key.
	CertFile, KeyFile string
}

// Server is a running proxy.
type Server struct {
	URL string // https://localhost:port/KdcProxy

	mu  sync.Mutex
	log strings.Builder
}

// Log returns what the proxy logged so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Count counts the log lines containing substr (for example "AS-REQ" or
// "\"POST /KdcProxy HTTP/1.1\" 200").
func (s *Server) Count(substr string) int {
	n := 0
	for _, line := range strings.Split(s.Log(), "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// Start runs the proxy until the test ends. It fails the test (never
// skips) when python3-kdcproxy is missing.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import kdcproxy").CombinedOutput(); err != nil {
		t.Fatalf("pykdcproxy: %s -c 'import kdcproxy': %v: %s (apt-get install -y %s)", python, err, out, Packages)
	}
	dir := t.TempDir()
	ini := "[global]\nuse_dns = false\n"
	realms := make([]string, 0, len(cfg.Realms))
	for r := range cfg.Realms {
		realms = append(realms, r)
	}
	sort.Strings(realms)
	for _, r := range realms {
		ini += fmt.Sprintf("\n[%s]\nkerberos = kerberos://%s\n", r, cfg.Realms[r])
	}
	conf := filepath.Join(dir, "kdcproxy.conf")
	script := filepath.Join(dir, "kdcproxy-serve.py")
	for name, content := range map[string]string{conf: ini, script: lab.KDCProxyServe} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, python, script, "127.0.0.1:0", cfg.CertFile, cfg.KeyFile)
	cmd.Env = append(os.Environ(), "KDCPROXY_CONFIG="+conf)
	s := &Server{}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		wg.Wait()
		if t.Failed() {
			t.Logf("python3-kdcproxy log:\n%s", s.Log())
		}
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		_, addr, _ := strings.Cut(strings.TrimSpace(line), "serving on ")
		port <- addr[strings.LastIndexByte(addr, ':')+1:]
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("pykdcproxy: the server did not start: %s", s.Log())
		}
		s.URL = "https://localhost:" + p + "/KdcProxy"
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("pykdcproxy: no port after 20s: %s", s.Log())
	}
	return nil
}
