package kdctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// KCMPackages lists the Debian packages [StartKCM] needs.
const KCMPackages = "sssd-kcm"

// KCM programs: sssd (to write the daemon's configuration database) and
// the daemon.
const (
	sssdBin    = "/usr/sbin/sssd"
	sssdKCMBin = "/usr/libexec/sssd/sssd_kcm"
)

// KCMStartTimeout bounds the wait for sssd_kcm to accept connections.
var KCMStartTimeout = 20 * time.Second

// KCM is a running sssd_kcm, the credential cache daemon behind
// "KCM:" caches on Fedora and RHEL, serving Socket.
//
// A KCM from [StartKCM] or [NewKCM] is private: sssd_kcm keeps its state in
// fixed places (/var/lib/sss/secrets/secrets.ldb, and its configuration in
// /var/lib/sss/db), so it runs in a mount namespace of its own where
// directories under Dir are mounted over those two, and its configuration
// names Socket under Dir. Several can run at once and nothing outside
// Dir is written. That needs root, as sssd_kcm itself does.
type KCM struct {
	Dir    string // state, configuration and the socket
	Socket string // the Unix socket: krb5.conf [libdefaults] kcm_socket

	owned  bool // started here: Close stops it
	cmd    *exec.Cmd
	exited chan struct{}
	log    *lockedBuffer
}

// StartKCM starts a private sssd_kcm for the test and stops it when the
// test ends; it fails the test (never skips) when sssd-kcm is missing.
// With KRBHTTP_KCM_SOCKET set (a lab whose container runs the daemon), that
// daemon is used instead ([AttachKCM]).
func StartKCM(t testing.TB) *KCM {
	t.Helper()
	var k *KCM
	var err error
	if s := os.Getenv("KRBHTTP_KCM_SOCKET"); s != "" {
		k, err = AttachKCM(s)
	} else {
		// A short directory of its own: a Unix socket path must fit in
		// 108 bytes, which t.TempDir() with a long test name may not.
		var dir string
		if dir, err = os.MkdirTemp("", "krbhttp-kcm-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			k, err = NewKCM(dir)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}

// NewKCM starts a private sssd_kcm with its state and socket in dir (which
// must exist); the caller must call Close.
func NewKCM(dir string) (*KCM, error) {
	for _, f := range []string{sssdBin, sssdKCMBin} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%w: %s missing (install with: apt-get install -y %s)", ErrMissingBinaries, f, KCMPackages)
		}
	}
	if runtime.GOOS != "linux" {
		return nil, errors.New("kdctest: sssd_kcm runs on Linux only")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("kdctest: unshare (util-linux) missing: %w", err)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("kdctest: a private sssd_kcm needs root (a mount namespace, and sssd_kcm runs as root); set KRBHTTP_KCM_SOCKET to use a running one")
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	k := &KCM{Dir: dir, Socket: filepath.Join(dir, "kcm.sock"), owned: true, log: &lockedBuffer{}}
	if len(k.Socket) >= 104 {
		return nil, fmt.Errorf("kdctest: socket path %s is too long for a Unix socket", k.Socket)
	}
	for _, d := range []string{"db", "secrets"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	conf := fmt.Sprintf("[sssd]\nservices = kcm\n\n[kcm]\nsocket_path = %s\n", k.Socket)
	if err := os.WriteFile(filepath.Join(dir, "sssd.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	// The shell stays the daemon's parent: sssd_kcm asks the kernel for a
	// signal when its parent dies, and exits with it.
	script := `set -e
mount --bind "$1/db" /var/lib/sss/db
mount --bind "$1/secrets" /var/lib/sss/secrets
` + sssdBin + ` --genconf-section=kcm --config "$1/sssd.conf" --logger=stderr
` + sssdKCMBin + ` --uid 0 --gid 0 --logger=stderr --debug-level=0x0070 &
trap 'kill $! 2>/dev/null' TERM INT
wait
`
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = k.log, k.log
	cmd.SysProcAttr = ownGroupDyingWithParent()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("kdctest: start sssd_kcm: %w", err)
	}
	k.cmd, k.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(k.exited)
	}()
	if err := k.waitReady(); err != nil {
		_ = k.Close()
		return nil, err
	}
	return k, nil
}

// AttachKCM uses a daemon someone else runs at socket; Close leaves it
// running. It waits up to [KCMStartTimeout] for the daemon to accept
// connections.
func AttachKCM(socket string) (*KCM, error) {
	k := &KCM{Dir: filepath.Dir(socket), Socket: socket, log: &lockedBuffer{}}
	return k, k.waitReady()
}

// waitReady waits until a connect() succeeds: the socket file appears
// before the daemon accepts, and an early client gets "connection refused".
func (k *KCM) waitReady() error {
	deadline := time.Now().Add(KCMStartTimeout)
	for time.Now().Before(deadline) {
		if k.exited != nil {
			select {
			case <-k.exited:
				return fmt.Errorf("kdctest: sssd_kcm exited at start:\n%s", k.log.String())
			default:
			}
		}
		if c, err := net.DialTimeout("unix", k.Socket, time.Second); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("kdctest: no KCM daemon accepting on %s within %v:\n%s", k.Socket, KCMStartTimeout, k.log.String())
}

// Log returns what the daemon wrote (errors and operation failures).
func (k *KCM) Log() string { return k.log.String() }

// Configure names the daemon's socket in r's krb5.conf ([libdefaults]
// kcm_socket), so that MIT tools and this module's sources reach it for
// "KCM:" caches. The realm's krb5.conf is changed in place; a socket named
// by an earlier Configure is replaced.
func (k *KCM) Configure(r *Realm) error {
	b, err := os.ReadFile(r.ConfigPath)
	if err != nil {
		return err
	}
	// The new file keeps the old one's mode: in a shared lab, services
	// running as other users (Squid's helper runs as proxy) read it too.
	fi, err := os.Stat(r.ConfigPath)
	if err != nil {
		return err
	}
	var out []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.TrimSpace(name) == "kcm_socket" {
			continue
		}
		out = append(out, line)
	}
	conf := strings.Join(out, "") + fmt.Sprintf("\n[libdefaults]\n\tkcm_socket = %s\n", k.Socket)
	// Renamed into place: a program reading krb5.conf meanwhile sees the
	// old file or the new one.
	tmp := r.ConfigPath + ".kcm"
	if err := os.WriteFile(tmp, []byte(conf), fi.Mode().Perm()); err != nil {
		return err
	}
	// WriteFile's mode is filtered by the umask; the old file's is not.
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, r.ConfigPath)
}

// Close stops a daemon started here (the whole process group: the shell
// and sssd_kcm) and waits for it. The directory is left to its owner.
func (k *KCM) Close() error {
	if !k.owned || k.cmd == nil {
		return nil
	}
	select {
	case <-k.exited:
		return nil
	default:
	}
	killGroup(k.cmd.Process.Pid, false)
	select {
	case <-k.exited:
	case <-time.After(5 * time.Second):
		killGroup(k.cmd.Process.Pid, true)
		<-k.exited
	}
	return nil
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Clone(l.b.String())
}
