// Package kdc talks to Kerberos KDCs: AS exchanges (password or keytab,
// with encrypted-timestamp pre-authentication, retried on the primary KDC
// as MIT does), TGS exchanges (service tickets, forwarded TGTs) and
// cross-realm paths (referrals, [capaths], off-path TGTs, bounded), with a
// context on every call.
//
// NetTransport reaches a realm's KDCs as MIT's library does: krb5.conf's kdc
// entries in MIT's order, over UDP, TCP or a KDC proxy (MS-KKDCP over HTTPS:
// kdc = https://host/KdcProxy, http_anchors), else KDCs found in DNS (URI
// records with krb5srv: targets, then SRV records), through a small stub
// resolver (DNS) built on golang.org/x/net/dns/dnsmessage because
// net.Resolver cannot ask for URI records. The KDC-PROXY-MESSAGE codec
// here is shared with the server side, package auth/kdcproxy.
//
// It replaces gokrb5's client networking, which takes no context, returns
// string-formatted errors and mutates client state without locks. Messages,
// crypto and ASN.1 still come from gokrb5. Replies are parsed defensively:
// the message type is checked before unmarshalling, gokrb5's unmarshal
// calls run under a recover as a last line of defence, and the proxy and
// DNS parsers are fuzzed, since all of it is input from the network.
//
// It imports nothing of the module; package credentials drives it.
package kdc
