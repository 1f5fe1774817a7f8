// Package pykdcproxy runs Debian's python3-kdcproxy, the reference MS-KKDCP
// KDC proxy (the one FreeIPA ships), over HTTPS on a loopback port in front
// of given KDCs: a KDC proxy nobody in this project wrote, for the client
// side of the protocol. The server is integration/lab/kdcproxy-serve.py,
// the lab's own; its log (wsgiref's access lines and one line per request
// saying what kdcproxy's codec made of it, "REALM AS-REQ (N bytes)") is
// kept for the tests to read.
package pykdcproxy
