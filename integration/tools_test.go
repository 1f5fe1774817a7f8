package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// The repository's commands run as real processes in these tests. They are
// built once per test binary, or taken from KRBHTTP_BIN_DIR when set: the
// compose client image has the binaries but no Go toolchain.
var (
	toolsMu sync.Mutex
	tools   = map[string]*builtTool{}
)

type builtTool struct {
	once sync.Once
	path string
	err  error
}

// tool returns the path of the command built from pkg.
func tool(t *testing.T, pkg string) string { return toolFor(t, pkg, "") }

// windowsTool returns the path of the command built from pkg for
// windows/amd64, to run under Wine.
func windowsTool(t *testing.T, pkg string) string { return toolFor(t, pkg, "windows") }

// toolFor builds pkg once for goos ("" for this system).
func toolFor(t *testing.T, pkg, goos string) string {
	t.Helper()
	toolsMu.Lock()
	b := tools[goos+":"+pkg]
	if b == nil {
		b = &builtTool{}
		tools[goos+":"+pkg] = b
	}
	toolsMu.Unlock()
	b.once.Do(func() { b.path, b.err = buildTool(pkg, goos) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func buildTool(pkg, goos string) (string, error) {
	name := path.Base(pkg)
	if goos == "windows" {
		name += ".exe"
	}
	if dir := os.Getenv("KRBHTTP_BIN_DIR"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("KRBHTTP_BIN_DIR has no %s: %w", name, err)
		}
		return p, nil
	}
	dir, err := os.MkdirTemp("", "krbhttp-bin-")
	if err != nil {
		return "", err
	}
	addCleanup(func() { _ = os.RemoveAll(dir) })
	p := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", p, pkg)
	if goos != "" {
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", pkg, err, out)
	}
	return p, nil
}

func krbcurl(t *testing.T) string { return tool(t, "github.com/krbhttp/krbhttp/auth/cmd/krbcurl") }
