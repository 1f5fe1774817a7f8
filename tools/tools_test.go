package tools

import (
	"os/exec"
	"strings"
	"testing"
)

func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPinnedGeneratorsRun(t *testing.T) {
	for _, tc := range []struct{ tool, module string }{
		{"oapi-codegen", "github.com/oapi-codegen/oapi-codegen/v2"},
		{"mockgen", "go.uber.org/mock"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			pinned := goCmd(t, "list", "-m", "-f", "{{.Version}}", tc.module)
			if got := goCmd(t, "tool", tc.tool, "-version"); !strings.HasSuffix(got, pinned) {
				t.Errorf("go tool %s -version = %q, want the pinned %s", tc.tool, got, pinned)
			}
		})
	}
}
