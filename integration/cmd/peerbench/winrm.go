package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/wsman"
)

// Debian's pywinrm cannot encrypt messages over http (its pykerberos has
// no wrap for WinRM), so it is compared with wsman over plain http; wsman
// with Kerberos message encryption is measured besides.
const (
	scWinRMOursEnc      = "wsman, message encryption: whole Run (shell, command, output, delete)"
	scWinRMOurs         = "wsman, unencrypted: whole Run"
	scWinRMPython       = "pywinrm, unencrypted: whole run (open_shell ... close_shell)"
	scWinRMOursShellEnc = "wsman, message encryption: command in one open shell"
	scWinRMOursShell    = "wsman, unencrypted: command in one open shell"
	scWinRMPythonShell  = "pywinrm, unencrypted: command in one open shell"
)

// winrmLab is the IIS-like server (integration/cmd/iislike) as its own
// process, serving /wsman with Kerberos message encryption over http.
type winrmLab struct {
	*lab
	url string
	cmd *exec.Cmd
}

func (l *lab) startWinRM() (*winrmLab, error) {
	bin := filepath.Join(l.realm.Dir, "iislike")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/iislike").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building iislike (run from the integration module): %v: %s", err, out)
	}
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-keytab", l.keytab, "-allow-unencrypted",
		// Windows' quotas (30 shells per user) would refuse most of the
		// concurrent runs.
		"-max-shells-per-user", "5000", "-max-operations-per-user", "100000")
	cmd.Env = l.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &winrmLab{lab: l, cmd: cmd}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "iislike: serving on "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		_, port, _ := strings.Cut(a, ":")
		w.url = "http://localhost:" + port + "/wsman"
		return w, nil
	case <-time.After(30 * time.Second):
		w.stop()
		return nil, errors.New("iislike did not start")
	}
}

func (w *winrmLab) stop() {
	_ = w.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-done
	}
}

func (w *winrmLab) client(enc wsman.Encryption) (*wsman.Client, error) {
	return wsman.NewClient(w.url, wsman.WithAuth(auth.WithConfig(w.conf), auth.WithCCache(w.ccache)), wsman.WithEncryption(enc))
}

func (w *winrmLab) scenarios(s *suite, n int) {
	s.add(scWinRMOursEnc, n, w.runs(wsman.EncryptAuto, n))
	s.add(scWinRMOurs, n, w.runs(wsman.EncryptNever, n))
	s.add(scWinRMPython, n, func() error {
		return command(w.env, "/usr/bin/python3", "-c", pywinrmScript, w.url, "runs", strconv.Itoa(n))
	})
	s.add(scWinRMOursShellEnc, n, w.inShell(wsman.EncryptAuto, n))
	s.add(scWinRMOursShell, n, w.inShell(wsman.EncryptNever, n))
	s.add(scWinRMPythonShell, n, func() error {
		return command(w.env, "/usr/bin/python3", "-c", pywinrmScript, w.url, "shell", strconv.Itoa(n))
	})
}

// runs and inShell keep their client across repetitions, as reused
// does for HTTP.
func (w *winrmLab) runs(enc wsman.Encryption, n int) func() error {
	var c *wsman.Client
	return func() error {
		if c == nil {
			var err error
			if c, err = w.client(enc); err != nil {
				return err
			}
		}
		for range n {
			if err := runTrue(c); err != nil {
				return err
			}
		}
		return nil
	}
}

func (w *winrmLab) inShell(enc wsman.Encryption, n int) func() error {
	var c *wsman.Client
	return func() error {
		if c == nil {
			var err error
			if c, err = w.client(enc); err != nil {
				return err
			}
		}
		ctx := context.Background()
		shell, err := c.CreateShell(ctx, wsman.ShellOptions{})
		if err != nil {
			return err
		}
		defer c.DeleteShell(ctx, shell)
		for range n {
			cmd, err := c.StartCommand(ctx, shell, "true")
			if err != nil {
				return err
			}
			if code, err := wsman.Stream(ctx, c, shell, cmd, nil, nil, nil); err != nil || code != 0 {
				return fmt.Errorf("exit %d: %v", code, err)
			}
			if err := c.Signal(ctx, shell, cmd, wsman.SignalTerminate); err != nil {
				return err
			}
		}
		return nil
	}
}

func runTrue(c *wsman.Client) error {
	code, err := c.Run(context.Background(), wsman.RunRequest{Command: "true"})
	if err == nil && code != 0 {
		err = fmt.Errorf("exit code %d", code)
	}
	return err
}

// pywinrmScript runs n commands with pywinrm (Debian's python3-winrm),
// unencrypted: each with its own shell ("runs")
// or all in one ("shell").
const pywinrmScript = `
import sys, warnings
warnings.simplefilter("ignore")
from winrm.protocol import Protocol
url, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Protocol(endpoint=url, transport="kerberos", message_encryption="never", operation_timeout_sec=20, read_timeout_sec=30)
def one(shell):
    cmd = p.run_command(shell, "true")
    out, err, code = p.get_command_output(shell, cmd)
    p.cleanup_command(shell, cmd)
    if code != 0:
        sys.exit("exit %d" % code)
if mode == "shell":
    shell = p.open_shell()
    for _ in range(n):
        one(shell)
    p.close_shell(shell)
else:
    for _ in range(n):
        shell = p.open_shell()
        one(shell)
        p.close_shell(shell)
`

// concurrentResult describes many Runs at once from one client.
type concurrentResult struct {
	runs        int
	wall        time.Duration
	peakHeap    uint64  // bytes of live heap objects, sampled
	peakTotal   uint64  // bytes the Go runtime holds from the OS, sampled
	mutexWait   float64 // seconds goroutines spent blocked on sync.Mutex/RWMutex
	vmHWMBefore string
	vmHWMAfter  string
}

// concurrentRuns starts n Runs at once on one client and samples the
// process's memory while they run.
func (w *winrmLab) concurrentRuns(n int) (*concurrentResult, error) {
	c, err := w.client(wsman.EncryptAuto)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := &concurrentResult{runs: n, vmHWMBefore: vmHWM()}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/sync/mutex/wait/total:seconds"},
	}
	metrics.Read(samples)
	waitBefore := samples[2].Value.Float64()
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			res.peakHeap = max(res.peakHeap, samples[0].Value.Uint64())
			res.peakTotal = max(res.peakTotal, samples[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- runTrue(c) })
	}
	wg.Wait()
	res.wall = time.Since(start)
	close(stop)
	<-sampled
	close(errs)
	failed := 0
	var first error
	for err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		return nil, fmt.Errorf("%d of %d concurrent runs failed, first: %w", failed, n, first)
	}
	metrics.Read(samples)
	res.mutexWait = samples[2].Value.Float64() - waitBefore
	res.vmHWMAfter = vmHWM()
	return res, nil
}

// vmHWM is the process's peak resident set so far.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
