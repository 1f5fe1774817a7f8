// Package kdc talks to Kerberos KDCs: AS exchanges (password or keytab,
// with encrypted-timestamp pre-authentication) and TGS exchanges (service
// tickets, cross-realm TGTs, referrals, and arbitrary requests such as a
// forwarded TGT), over UDP and TCP with a context on every call.
//
// It replaces gokrb5's client networking, which takes no context, returns
// string-formatted errors and mutates client state without locks. Messages,
// crypto and ASN.1 still come from gokrb5. Replies are parsed defensively:
// the message type is checked before unmarshalling, and gokrb5's unmarshal
// calls run under a recover as a last line of defence, since a KDC reply is
// input from the network.
//
// It imports nothing of the module; package credentials drives it.
package kdc
