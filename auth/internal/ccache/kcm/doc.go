// Package kcm is a client of the KCM protocol, the credential cache daemon
// protocol of Heimdal that MIT krb5 (src/lib/krb5/ccache/cc_kcm.c) speaks to
// SSSD's sssd_kcm (src/responder/kcm/) over a Unix socket: the default
// cache of Fedora and RHEL ("default_ccache_name = KCM:").
//
// A request is a 4-byte big-endian length, then the protocol version (2.0),
// a 16-bit opcode and the arguments: cache names as NUL-terminated strings,
// principals and credentials in the version 4 file cache encoding. A reply
// is a 4-byte length, a 4-byte transport status, and (when that is zero) the
// reply: a 4-byte operation status (a krb5 error code such as
// KRB5_FCC_NOFILE) and its results.
//
// Cache names are what follows "KCM:" in a cache name: "" for the
// collection's primary cache, "1000" (sssd's name for the first cache of uid
// 1000), "1000:57821" for one of its other caches. Operations sssd does not
// implement (REPLACE, GET_CRED_LIST before sssd 2.4) fall back as MIT falls
// back.
//
// Every call dials the socket, honours its context and is bounded
// (DefaultTimeout without a deadline); replies are size-checked before
// anything is allocated (at most MaxReply bytes, as MIT), so a daemon that
// answers garbage or hangs costs a typed error, not a panic or a stuck
// caller.
package kcm
