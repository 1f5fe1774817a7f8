// Package file reads and writes FILE: credential caches (also the caches
// of a DIR: collection) the way MIT's cc_file.c does, so that MIT tools and
// this library can use the same file at the same time:
//
//   - reading takes a shared lock on the whole file, so a credential being
//     appended is never seen half-written;
//   - a new credential is appended with one write under an exclusive lock,
//     in the file's own format version (MIT's krb5_cc_store); if the write
//     fails part-way the file is cut back to its previous length, so no
//     half-written credential is left behind;
//   - initializing (what kinit does) writes a new file next to the old one
//     and renames it over, so readers see the old cache or the new one,
//     never a mix.
//
// Locks are fcntl record locks over the whole file. On Linux they are
// open-file-description locks (F_OFD_SETLK), which MIT also uses: they
// conflict with MIT's and with each other even within one process. Where
// only per-process POSIX locks exist, a lock per path inside the process
// serializes goroutines as well. Waiting for a lock honours the context
// and is bounded (DefaultLockTimeout when the context has no deadline).
package file
