// Package apache runs Apache httpd with mod_auth_gssapi on a loopback port
// for tests: a real SPNEGO acceptor that nobody in this project wrote.
package apache
