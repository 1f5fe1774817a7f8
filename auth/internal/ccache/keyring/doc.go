// Package keyring is the KEYRING: credential cache type: caches kept in
// the Linux kernel's key retention service, laid out as MIT's cc_keyring.c
// lays them out, so that MIT's kinit, klist and kvno and this package share
// them.
//
// A cache name's residual is "anchor:collection:subsidiary",
// "anchor:collection" or "collection" (anchor "legacy"). The anchor says
// which keyring holds the collection: "session", "process", "thread",
// "user", "persistent" (the collection part is then a uid, or empty for the
// caller's), "legacy" (the session keyring, with the old single-cache
// layout linked alongside). A collection is a keyring "_krb_<collection>"
// (for persistent: "_krb" in the uid's persistent keyring) holding one
// keyring per cache and a user key "krb_ccache:primary" naming the primary
// cache. A cache keyring holds a user key "__krb5_princ__" with the default
// principal and one key per credential, named by its server principal, each
// in the version 4 file cache encoding.
//
// The process and thread keyrings belong to one OS thread in Linux (a
// keyring created by one thread is not seen by threads that already
// exist), while Go moves goroutines between threads: every keyring
// operation of this package runs on one locked OS thread, started on first
// use and kept for the life of the process. KEYRING:process: and
// KEYRING:thread: caches are therefore private to this package within the
// process, and consistent across goroutines.
//
// Off Linux, and on kernels without keys (or a seccomp filter refusing the
// keyctl calls), everything fails with an error matching
// ccache.ErrUnsupported.
package keyring
