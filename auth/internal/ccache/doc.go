// Package ccache is the credential caches of MIT Kerberos: the binary
// format of FILE: caches (versions 1 to 4, also used by DIR: collections),
// cache names as KRB5CCNAME and default_ccache_name give them ([ParseName]:
// FILE:, DIR:, KCM:, KEYRING:, MEMORY:), and DIR: collections.
//
// The codec exists because gokrb5's reader panics on empty or truncated files and
// cannot be given bytes that did not come from a path. Every length read from
// the file is checked against the bytes that remain before anything is
// allocated, so a hostile or corrupt cache costs at most its own size.
//
// Package credentials reads caches through it; it imports only package
// ticket, for principal names.
//
// The format is described at
// https://web.mit.edu/kerberos/krb5-latest/doc/formats/ccache_file_format.html.
package ccache
