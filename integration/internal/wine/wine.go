package wine

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed dll/processprng.c dll/processprng.def
var dllSource embed.FS

// Programs: Debian's wine64 package installs its loader outside PATH.
var (
	loaders     = []string{"/usr/lib/wine/wine64", "wine64", "wine"}
	servers     = []string{"/usr/lib/wine/wineserver", "wineserver64", "wineserver"}
	crossCC     = "x86_64-w64-mingw32-gcc"
	bootTimeout = 3 * time.Minute
	linger      = 2 * time.Minute
	// pipeWait bounds how long a finished program's output pipes are
	// waited for: the Wine services (winedevice.exe and others) that a
	// program starts inherit them and outlive it.
	pipeWait = 5 * time.Second
)

// Prefix is a Wine prefix ready to run Go programs built for
// windows/amd64.
type Prefix struct {
	Dir        string // the WINEPREFIX
	loader     string
	server     string
	persistent *exec.Cmd
}

func find(names []string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("wine: none of %s found (scripts/setup.sh installs wine64)", strings.Join(names, ", "))
}

// New makes a prefix in a new directory under parent: it starts a
// wineserver that stays until Close, initializes the prefix (wineboot)
// and installs the ProcessPrng DLL into its system32.
func New(parent string) (p *Prefix, err error) {
	loader, err := find(loaders)
	if err != nil {
		return nil, err
	}
	server, err := find(servers)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "wineprefix-")
	if err != nil {
		return nil, err
	}
	p = &Prefix{Dir: dir, loader: loader, server: server}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	dll, err := p.buildDLL()
	if err != nil {
		return nil, err
	}
	// A persistent server (in the foreground with -f so that it is our
	// child and Close can wait for it) keeps the prefix's processes warm
	// between programs: a cold start costs some five seconds. It stays
	// two minutes after the last program, not forever, so that a test
	// binary killed before Close leaves nothing running for long.
	p.persistent = exec.Command(server, "-f", "-p"+strconv.Itoa(int(linger/time.Second)))
	p.persistent.Env = p.env(nil)
	if err := p.persistent.Start(); err != nil {
		return nil, fmt.Errorf("wine: starting wineserver: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	if out, err := p.Command(ctx, "wineboot", "-i").CombinedOutput(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return nil, fmt.Errorf("wine: wineboot: %w\n%s", err, out)
	}
	sys32 := filepath.Join(dir, "drive_c", "windows", "system32")
	b, err := os.ReadFile(dll)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(sys32, "bcryptprimitives.dll"), b, 0o644); err != nil {
		return nil, fmt.Errorf("wine: installing bcryptprimitives.dll: %w", err)
	}
	return p, nil
}

// buildDLL compiles bcryptprimitives.dll into the prefix's directory.
func (p *Prefix) buildDLL() (string, error) {
	cc, err := exec.LookPath(crossCC)
	if err != nil {
		return "", fmt.Errorf("wine: %s not found (scripts/setup.sh installs gcc-mingw-w64-x86-64-win32): %w", crossCC, err)
	}
	src := filepath.Join(p.Dir, "dll-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	var files []string
	for _, name := range []string{"processprng.c", "processprng.def"} {
		b, err := dllSource.ReadFile("dll/" + name)
		if err != nil {
			return "", err
		}
		f := filepath.Join(src, name)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return "", err
		}
		files = append(files, f)
	}
	out := filepath.Join(src, "bcryptprimitives.dll")
	args := append([]string{"-O2", "-shared", "-s", "-o", out}, files...)
	if b, err := exec.Command(cc, append(args, "-ladvapi32")...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("wine: building bcryptprimitives.dll: %w\n%s", err, b)
	}
	return out, nil
}

// env is the process environment plus extra, with the prefix and Wine's
// settings: no debug output, and no Mono or Gecko (their installers would
// want to download).
func (p *Prefix) env(extra []string) []string {
	e := append(os.Environ(), "WINEPREFIX="+p.Dir, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	if os.Getenv("HOME") == "" {
		// Wine refuses to start without a home directory; a CI job may
		// run without one.
		e = append(e, "HOME="+filepath.Dir(p.Dir))
	}
	return append(e, extra...)
}

// Command returns a command running program (a Windows executable, or a
// Wine program such as wineboot) with args in the prefix. Its Env holds
// the prefix's settings; append to it (a later KRB5CCNAME, say, wins).
func (p *Prefix) Command(ctx context.Context, program string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.loader, append([]string{program}, args...)...)
	cmd.Env = p.env(nil)
	cmd.WaitDelay = pipeWait
	return cmd
}

// Close stops the prefix's wineserver and every Wine process of the
// prefix (wineserver -k), then removes the prefix.
func (p *Prefix) Close() {
	if p.persistent != nil {
		kill := exec.Command(p.server, "-k")
		kill.Env = p.env(nil)
		_ = kill.Run()
		done := make(chan error, 1)
		go func() { done <- p.persistent.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.persistent.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(p.Dir)
}
