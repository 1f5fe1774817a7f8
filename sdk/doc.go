// Package sdk will hold typed clients generated with oapi-codegen from the
// OpenAPI documents in specs/, wired to the Negotiate transport of module
// auth. Nothing is generated yet.
package sdk
