// Package testcert makes throwaway TLS certificates at test time: a CA and
// server certificates it signs, so that no key is ever committed.
package testcert
