// Package integration holds the end-to-end tests of this project: they run
// against a throwaway MIT KDC and real servers (our acceptor, Apache
// mod_auth_gssapi) on loopback, started by the tests themselves. The
// Windows builds of the commands run under Wine against the same servers
// (wine_test.go), with the host's MIT cache as the Windows logon.
package integration
