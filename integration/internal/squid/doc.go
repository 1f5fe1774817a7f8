// Package squid runs Debian's Squid on a loopback port for tests: a real
// forward proxy that authenticates its clients with Negotiate through
// negotiate_kerberos_auth (MIT GSSAPI) and its own keytab, tunnels https
// with CONNECT, and logs each request with the user it authenticated.
package squid
