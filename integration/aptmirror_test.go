package integration

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// aptMirrorScript is embedded so that the test binary runs it in the
// compose client container too, where the sources are not.
//
//go:embed docker/apt-mirror.sh
var aptMirrorScript string

// TestBaseImageMirror: the compose lab's base image is bootstrapped from
// the mirror this machine's apt uses (docker/apt-mirror.sh), found in the
// source formats Debian writes: one-line lists with options and deb822
// stanzas, the -security and -updates companions and deb-src skipped.
func TestBaseImageMirror(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "apt-mirror.sh")
	if err := os.WriteFile(script, []byte(aptMirrorScript), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"Debian 12 default deb822", map[string]string{"sources.list.d/debian.sources": `Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`}, "http://deb.debian.org/debian"},
		{"one-line with options behind a corporate mirror", map[string]string{"sources.list": `# security first
deb [signed-by=/etc/apt/keyrings/corp.gpg arch=amd64] http://mirror.corp.example/debian-security bookworm-security main
deb [signed-by=/etc/apt/keyrings/corp.gpg arch=amd64] http://mirror.corp.example/debian bookworm main contrib
`}, "http://mirror.corp.example/debian"},
		{"deb-src only", map[string]string{"sources.list.d/src.sources": "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n"}, ""},
		{"nothing", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range c.files {
				p := filepath.Join(root, "etc/apt", name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command("bash", "-c", `source "$1" && apt_mirror "$2" | head -n 1`, "bash", script, root).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Errorf("mirror %q, want %q", got, c.want)
			}
		})
	}
}
