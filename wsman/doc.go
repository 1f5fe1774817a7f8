// Package wsman will be a WS-Management (WinRM) client built on the
// Negotiate transport of module auth. It is not written yet.
package wsman
