package dnsmasq

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/integration/internal/harness"
)

// Packages lists the Debian packages this harness needs.
const Packages = "dnsmasq-base"

// Record is one record to serve.
type Record struct {
	Name string
	// Exactly one of the following.
	SRV *SRV
	TXT string
	URI *URI
}

// SRV is an SRV record's data.
type SRV struct {
	Target                 string
	Port, Priority, Weight uint16
}

// URI is a URI record's data (RFC 7553).
type URI struct {
	Priority, Weight uint16
	Target           string
}

// Server is a running dnsmasq.
type Server struct {
	Addr string // 127.0.0.1:port, UDP and TCP

	mu  sync.Mutex
	log strings.Builder
}

// Log returns what dnsmasq logged so far (one line per query).
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Resolver is a net.Resolver that asks this server only.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.Addr)
	}}
}

func (r Record) arg() (string, error) {
	switch {
	case r.SRV != nil:
		return fmt.Sprintf("--srv-host=%s,%s,%d,%d,%d", r.Name, r.SRV.Target, r.SRV.Port, r.SRV.Priority, r.SRV.Weight), nil
	case r.URI != nil:
		data := binary.BigEndian.AppendUint16(nil, r.URI.Priority)
		data = binary.BigEndian.AppendUint16(data, r.URI.Weight)
		return fmt.Sprintf("--dns-rr=%s,256,%s", r.Name, hex.EncodeToString(append(data, r.URI.Target...))), nil
	case r.TXT != "":
		// Quotes would be part of the value on a command line.
		return fmt.Sprintf("--txt-record=%s,%s", r.Name, r.TXT), nil
	}
	return "", fmt.Errorf("dnsmasq: record %s has no data", r.Name)
}

// Start runs dnsmasq with records until the test ends. It fails the test
// (never skips) when dnsmasq is missing.
func Start(t testing.TB, records ...Record) *Server {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dnsmasq"); serr != nil {
			t.Fatalf("dnsmasq: not installed (apt-get install -y %s)", Packages)
		}
		bin = "/usr/sbin/dnsmasq"
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var lastErr string
	// A port found free may be taken before dnsmasq binds it: try again.
	for range 3 {
		port, err := harness.FreePortTCPUDP()
		if err != nil {
			t.Fatal(err)
		}
		args := []string{
			"--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
			"--listen-address=127.0.0.1", "--bind-interfaces", fmt.Sprintf("--port=%d", port),
			"--pid-file=" + filepath.Join(dir, "dnsmasq.pid"), "--user=" + me.Username,
			"--log-queries", "--log-facility=-",
		}
		for _, r := range records {
			a, err := r.arg()
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, a)
		}
		s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, args...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				s.mu.Lock()
				s.log.WriteString(sc.Text() + "\n")
				s.mu.Unlock()
			}
		}()
		stop := func() {
			cancel()
			<-done
			_ = cmd.Wait()
		}
		if up(s.Addr, done) {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("dnsmasq log:\n%s", s.Log())
				}
			})
			return s
		}
		stop()
		lastErr = s.Log()
	}
	t.Fatalf("dnsmasq did not start: %s", lastErr)
	return nil
}

// up waits until dnsmasq accepts TCP connections, or exits.
func up(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
