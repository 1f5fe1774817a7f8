// Package sdk is the root of the module of typed clients generated from the
// OpenAPI documents in the repository's specs/ directory, one package per
// document:
//
//   - [github.com/krbhttp/krbhttp/sdk/webhdfs]: Hadoop WebHDFS (specs/webhdfs.yaml)
//   - [github.com/krbhttp/krbhttp/sdk/ssrs]: SQL Server Reporting Services REST v2.0 (specs/ssrs.yaml)
//   - [github.com/krbhttp/krbhttp/sdk/yarn]: Hadoop YARN ResourceManager REST (specs/yarn.yaml)
//
// Each package holds the client oapi-codegen generates (*.gen.go, made by
// the go:generate directive in its doc.go, never edited by hand) and a
// small hand-written constructor, New, that wires in Kerberos Negotiate
// from module auth and accepts every auth option.
//
// This package has no API of its own; its test checks that every document
// in specs/ is valid OpenAPI 3 for the parser the generator uses
// (kin-openapi) and has a package here.
package sdk
