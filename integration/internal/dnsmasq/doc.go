// Package dnsmasq runs Debian's dnsmasq as an authoritative-only DNS
// server on a loopback port for tests: a real DNS server nobody in this
// project wrote, answering the records Kerberos discovery uses (SRV with
// --srv-host, TXT with --txt-record, and URI records, type 256, with
// --dns-rr). It reads no system file (no /etc/dnsmasq.conf, resolv.conf
// or hosts), forwards nothing, and logs every query, which tests read.
package dnsmasq
