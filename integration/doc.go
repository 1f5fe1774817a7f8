// Package integration holds the end-to-end tests of this project: they run
// against a throwaway MIT KDC and real servers (our acceptor, Apache
// mod_auth_gssapi) on loopback, started by the tests themselves.
package integration
