// Package tools pins the code generators of this repository with go.mod
// tool directives, so that every machine generates the same code:
//
//   - github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen: the SDK
//     clients in sdk/ from the OpenAPI documents in specs/
//   - go.uber.org/mock/mockgen: the gomock mocks in mocks/
//
// Inside the workspace (go.work) any module runs them as `go tool
// oapi-codegen` and `go tool mockgen`; the go:generate directives do, and
// scripts/generate.sh runs those. To upgrade a generator, run `go get
// -tool <package>@<version>` here, regenerate, and commit both. Linters
// stay out of this module: their dependencies would drag the versions
// shared with the generators along.
//
// The package has no code; its test checks that the pinned generators
// build and report the pinned versions.
package tools
