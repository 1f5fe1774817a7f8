package tools

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The OpenAPI documents are checked here rather than in the sdk module,
// so that kin-openapi, a dependency of the generator, stays out of the
// go.mod of the SDK's users.

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

// TestSpecsValidate loads each document with kin-openapi, the parser
// oapi-codegen uses, and validates it, with the pattern checks on.
func TestSpecsValidate(t *testing.T) {
	t.Parallel()
	for _, path := range specs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromFile(path)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if err := doc.Validate(t.Context()); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if !strings.HasPrefix(doc.OpenAPI, "3.") {
				t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
			}
			for p, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					if op.OperationID == "" {
						t.Errorf("%s %s has no operationId (the generated method's name)", method, p)
					}
				}
			}
		})
	}
}
