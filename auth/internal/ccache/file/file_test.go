package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/file"
)

// The test binary doubles as a second writer process: with
// CCACHE_FILE_HELPER set it appends credentials to a cache and exits.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CCACHE_FILE_HELPER"); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func helper(mode string) int {
	path := os.Getenv("CCACHE_FILE_PATH")
	c := file.Open(path)
	switch mode {
	case "append":
		n, _ := strconv.Atoi(os.Getenv("CCACHE_FILE_N"))
		client := os.Getenv("CCACHE_FILE_CLIENT")
		for i := range n {
			if err := c.Add(context.Background(), ccachetest.Credential(client, fmt.Sprintf("proc/%d@KRBHTTP.TEST", i))); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	case "append-limited":
		// RLIMIT_FSIZE makes the kernel stop the write part-way, as a
		// full disk would.
		if err := limitFileSize(fileSize(path) + 10); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		err := c.Add(context.Background(), ccachetest.Credential(os.Getenv("CCACHE_FILE_CLIENT"), "big/one@KRBHTTP.TEST"))
		fmt.Println(err)
		return 0
	}
	return 3
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func newCache(t testing.TB, client string) *file.Cache {
	t.Helper()
	c := file.Open(filepath.Join(t.TempDir(), "ccache"))
	tgt := ccachetest.Credential(client, "krbtgt/KRBHTTP.TEST@KRBHTTP.TEST")
	if err := c.Initialize(context.Background(), tgt.Client, []*ccache.Credential{tgt}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMITInterop: MIT writes, we read and append; MIT reads what we
// appended and uses it without asking the KDC.
func TestMITInterop(t *testing.T) {
	r := ccachetest.StartRealm(t)
	path := filepath.Join(t.TempDir(), "cc")
	name := "FILE:" + path
	r.Kinit(t, "alice", name)
	if out, err := r.Run("kvno", "-c", name, ccachetest.ServiceA); err != nil {
		t.Fatalf("kvno: %v %s", err, out)
	}
	c := file.Open(path)
	ctx := context.Background()
	got, err := c.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Principal.String() != r.Alice || len(got.Credentials) != 2 {
		t.Fatalf("principal %s, %d credentials; want %s with TGT and one ticket", got.Principal, len(got.Credentials), r.Alice)
	}

	b := r.MITServiceTicket(t, ccachetest.ServiceB)
	if err := c.Add(ctx, b); err != nil {
		t.Fatal(err)
	}
	r.CheckMITUses(t, name, ccachetest.ServiceB)
	// MIT appended too (kvno stores nothing new here, kvno for A did
	// earlier): what we read back parses completely.
	if got, err = c.Load(ctx); err != nil || len(got.Credentials) != 3 {
		t.Fatalf("reload: %v, %d credentials", err, len(got.Credentials))
	}
}

// TestConcurrentWriters: 64 goroutines, a second process and MIT kvno
// append to one file at once; every credential arrives and the file stays
// readable by MIT and by us.
func TestConcurrentWriters(t *testing.T) {
	r := ccachetest.StartRealm(t)
	path := filepath.Join(t.TempDir(), "cc")
	name := "FILE:" + path
	r.Kinit(t, "alice", name)
	c := file.Open(path)
	ctx := context.Background()

	const goroutines, procN, kvnos = 64, 40, 2
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+kvnos+1)
	proc := exec.Command(os.Args[0], "-test.run=^$")
	proc.Env = append(os.Environ(), "CCACHE_FILE_HELPER=append", "CCACHE_FILE_PATH="+path,
		"CCACHE_FILE_N="+strconv.Itoa(procN), "CCACHE_FILE_CLIENT="+r.Alice)
	var procOut bytes.Buffer
	proc.Stdout, proc.Stderr = &procOut, &procOut
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range goroutines {
		wg.Go(func() {
			if err := c.Add(ctx, ccachetest.Credential(r.Alice, fmt.Sprintf("goroutine/%d@KRBHTTP.TEST", i))); err != nil {
				errs <- err
			}
		})
	}
	for _, spn := range []string{ccachetest.ServiceA, ccachetest.ServiceB}[:kvnos] {
		wg.Go(func() {
			if out, err := r.Run("kvno", "-c", name, spn); err != nil {
				errs <- fmt.Errorf("kvno %s: %v %s", spn, err, out)
			}
		})
	}
	wg.Wait()
	if err := proc.Wait(); err != nil {
		t.Fatalf("second process: %v\n%s", err, procOut.String())
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := c.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + goroutines + procN + kvnos; len(got.Credentials) != want {
		t.Errorf("%d credentials, want %d", len(got.Credentials), want)
	}
	out, err := r.Klist("-c", name)
	if err != nil {
		t.Fatalf("klist: %v", err)
	}
	if n := strings.Count(out, "@KRBHTTP.TEST\n"); n < goroutines+procN {
		t.Errorf("klist lists %d entries:\n%s", n, out)
	}
}

func TestAddPrincipalChanged(t *testing.T) {
	c := newCache(t, "bob@KRBHTTP.TEST")
	before, _ := os.ReadFile(c.Path())
	err := c.Add(context.Background(), ccachetest.Credential("alice@KRBHTTP.TEST", "HTTP/x@KRBHTTP.TEST"))
	var pc *ccache.PrincipalChangedError
	if !errors.As(err, &pc) || pc.Have.String() != "bob@KRBHTTP.TEST" {
		t.Fatalf("err = %v, want a PrincipalChangedError", err)
	}
	if after, _ := os.ReadFile(c.Path()); !bytes.Equal(before, after) {
		t.Error("the file changed")
	}
}

func TestMissingAndEmpty(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := file.Open(filepath.Join(dir, "none"))
	if _, err := missing.Load(ctx); !errors.Is(err, ccache.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load: %v", err)
	}
	if err := missing.Add(ctx, ccachetest.Credential("a@R", "b@R")); !errors.Is(err, ccache.ErrNotFound) {
		t.Errorf("Add: %v", err)
	}
	if _, err := os.Stat(missing.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Add created the file")
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Open(empty).Load(ctx); !errors.Is(err, ccache.ErrNotFound) {
		t.Errorf("empty: %v", err)
	}
}

// TestHostileFiles: truncated and forged files give typed errors, never a
// panic, and appending to them writes nothing.
func TestHostileFiles(t *testing.T) {
	ctx := context.Background()
	good := ccache.Marshal(&ccache.Cache{Principal: ccachetest.Principal("alice@R"),
		Credentials: []*ccache.Credential{ccachetest.Credential("alice@R", "krbtgt/R@R")}})
	cases := map[string][]byte{
		"garbage":        []byte("not a cache at all"),
		"header only":    good[:4],
		"cut principal":  good[:10],
		"cut credential": good[:len(good)-5],
		"huge count":     {5, 4, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff},
	}
	dir := t.TempDir()
	for name, b := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c := file.Open(path)
		_, err := c.Load(ctx)
		if !errors.Is(err, ccache.ErrMalformed) {
			t.Errorf("%s: Load err = %v, want ErrMalformed", name, err)
		}
		err = c.Add(ctx, ccachetest.Credential("alice@R", "HTTP/x@R"))
		if name == "cut credential" {
			// The header is fine: MIT would append too.
			continue
		}
		if !errors.Is(err, ccache.ErrMalformed) {
			t.Errorf("%s: Add err = %v, want ErrMalformed", name, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
			t.Errorf("%s: Add changed the file", name)
		}
	}
}

// TestPartialWriteRolledBack: a write the kernel stops part-way (file size
// limit, as with a full disk) leaves the file exactly as it was.
func TestPartialWriteRolledBack(t *testing.T) {
	c := newCache(t, "alice@KRBHTTP.TEST")
	before, err := os.ReadFile(c.Path())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CCACHE_FILE_HELPER=append-limited", "CCACHE_FILE_PATH="+c.Path(), "CCACHE_FILE_CLIENT=alice@KRBHTTP.TEST")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "append to") {
		t.Fatalf("the limited write did not fail: %s", out)
	}
	after, _ := os.ReadFile(c.Path())
	if !bytes.Equal(before, after) {
		t.Fatalf("file is %d bytes after the failed append, was %d", len(after), len(before))
	}
	if _, err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLockWaitBounded: a lock held by another process (Python's lockf is
// fcntl F_SETLKW, the kind older MIT builds take) makes us wait only as
// long as the context allows, with an error saying so.
func TestLockWaitBounded(t *testing.T) {
	c := newCache(t, "alice@KRBHTTP.TEST")
	holder := exec.Command("/usr/bin/python3", "-c", `
import fcntl, sys, time
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(30)
`, c.Path())
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	buf := make([]byte, 7)
	if _, err := stdout.Read(buf); err != nil || string(buf[:6]) != "locked" {
		t.Fatalf("lock holder: %v %q", err, buf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Load(ctx)
	if !errors.Is(err, file.ErrLocked) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load under a foreign lock: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("waited %v", waited)
	}
	// Once the holder is gone the cache reads again.
	_ = holder.Process.Kill()
	_ = holder.Wait()
	if _, err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestInitializeReplaces(t *testing.T) {
	c := newCache(t, "alice@KRBHTTP.TEST")
	ctx := context.Background()
	bob := ccachetest.Principal("bob@KRBHTTP.TEST")
	if err := c.Initialize(ctx, bob, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.Load(ctx)
	if err != nil || !got.Principal.Equal(bob) || len(got.Credentials) != 0 {
		t.Fatalf("%v %+v", err, got)
	}
	fi, err := os.Stat(c.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(c.Path()))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestAppendKeepsVersion: a version 3 file gets a version 3 credential.
func TestAppendKeepsVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3")
	alice := ccachetest.Principal("alice@R")
	v3 := ccache.MarshalVersion(&ccache.Cache{Principal: alice, Credentials: []*ccache.Credential{ccachetest.Credential("alice@R", "krbtgt/R@R")}}, 3)
	if err := os.WriteFile(path, v3, 0o600); err != nil {
		t.Fatal(err)
	}
	c := file.Open(path)
	if err := c.Add(context.Background(), ccachetest.Credential("alice@R", "HTTP/x@R")); err != nil {
		t.Fatal(err)
	}
	got, err := c.Load(context.Background())
	if err != nil || got.Version != 3 || len(got.Credentials) != 2 {
		t.Fatalf("%v %+v", err, got)
	}
}
