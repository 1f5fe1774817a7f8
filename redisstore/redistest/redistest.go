// Package redistest runs a throwaway Redis server (Debian's redis-server)
// for tests, as kdctest runs a KDC: on a loopback port, with its data in a
// temporary directory, append-only persistence on (so that a stop and a
// start keep the data, as a production replay cache needs) and the
// noeviction policy. Nothing outside the directory is read or written.
//
// A missing redis-server fails the test instead of skipping it, so that a
// machine without it cannot pass silently; scripts/setup.sh installs it.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Package lists the Debian package that provides the server.
const Package = "redis-server"

// Server is a running (or stopped) redis-server.
type Server struct {
	Addr string // 127.0.0.1:port
	Dir  string // its working directory: redis.conf, appendonly files, redis.log
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd has been waited for
}

// Start starts a server for the test; it is stopped when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Stop() })
	return s
}

// New starts a server with its data in dir, on a free loopback port, for
// programs without a testing.TB. Stop it with Stop.
func New(dir string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server not found (apt-get install -y %s): %w", Package, err)
	}
	s := &Server{Dir: dir}
	// A port picked here may be taken before redis-server binds it: try
	// a few.
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if last = s.start(bin); last == nil {
			return s, nil
		}
	}
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// config is the server's redis.conf: loopback only (no Unix socket), data
// and log in the directory, every write appended and synced once a second.
func (s *Server) config() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return strings.Join([]string{
		"bind 127.0.0.1",
		"port " + port,
		"protected-mode yes",
		"daemonize no",
		"dir " + s.Dir,
		"logfile " + filepath.Join(s.Dir, "redis.log"),
		"appendonly yes",
		"appendfsync everysec",
		`save ""`,
		"maxmemory-policy noeviction",
	}, "\n") + "\n"
}

func (s *Server) start(bin string) error {
	conf := filepath.Join(s.Dir, "redis.conf")
	if err := os.WriteFile(conf, []byte(s.config()), 0o600); err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	cmd := exec.Command(bin, conf)
	cmd.Dir = s.Dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting redis-server: %w", err)
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.Addr); err == nil {
			s.cmd, s.exit = cmd, exit
			return nil
		}
		select {
		case <-exit:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			return fmt.Errorf("redistest: redis-server exited on %s: %s", s.Addr, lastLines(string(log), 5))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exit
			return fmt.Errorf("redistest: redis-server on %s not ready within 10 s", s.Addr)
		}
	}
}

// ping speaks just enough RESP to know the server answers.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("redistest: PING answered %q", line)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Stop stops the server as an administrator would (SIGTERM: Redis flushes
// its append-only file and exits), waiting up to 10 s before killing it.
// Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	cmd, exit := s.cmd, s.exit
	s.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exit:
		return nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exit
		return errors.New("redistest: redis-server did not stop within 10 s; killed")
	}
}

// Restart starts a stopped server again, on the same port with the same
// data.
func (s *Server) Restart() error {
	if s.cmd != nil {
		return errors.New("redistest: Restart: the server is running")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	return s.start(bin)
}
