// Package dnstest is a small authoritative DNS server on loopback for
// tests: SRV, URI, TXT, A and CNAME records over UDP and TCP on one port,
// truncation on demand (to force the TCP retry), and a hook that answers
// with arbitrary bytes (hostile replies). It follows RFC 1035's message
// rules with golang.org/x/net/dns/dnsmessage. Debian's DNS servers
// (dnsmasq, bind9) need a process and configuration files per test and
// cannot send malformed answers; the integration suite runs dnsmasq
// against the same client.
package dnstest
