// Package tools pins the code generators this project runs with go.mod
// tool directives. It has no code of its own.
package tools
