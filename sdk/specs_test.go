package sdk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// specs lists the OpenAPI documents in specs/.
func specs(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "specs", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no OpenAPI documents in ../specs")
	}
	return paths
}

// TestEverySpecHasAPackage checks that specs/NAME.yaml is generated into
// package NAME by a configuration that reads it.
func TestEverySpecHasAPackage(t *testing.T) {
	t.Parallel()
	for _, path := range specs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		cfg, err := os.ReadFile(filepath.Join(name, "oapi-codegen.yaml"))
		if err != nil {
			t.Errorf("spec %s: %v", name, err)
			continue
		}
		if !strings.Contains(string(cfg), "package: "+name+"\n") {
			t.Errorf("%s/oapi-codegen.yaml does not generate package %s", name, name)
		}
		doc, err := os.ReadFile(filepath.Join(name, "doc.go"))
		if err != nil {
			t.Errorf("spec %s: %v", name, err)
			continue
		}
		directive := "//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../specs/" + name + ".yaml\n"
		if !strings.Contains(string(doc), directive) {
			t.Errorf("%s/doc.go lacks %q", name, strings.TrimSpace(directive))
		}
	}
}
