// Package kdctest runs a throwaway MIT Kerberos KDC on a loopback port for
// integration tests: one realm in a temporary directory, principals and
// keytabs made with kadmin.local, kinit for credential caches, and the KDC
// log to count requests. Nothing under /etc is read or written: every
// command gets KRB5_CONFIG and KRB5_KDC_PROFILE pointing into the directory.
//
// The MIT binaries come from the Debian packages krb5-kdc,
// krb5-admin-server and krb5-user. When they are missing, [Start] fails the
// test instead of skipping it, so a machine without them cannot pass
// silently.
//
// It reads the realm's krb5.conf with package krb5conf and imports nothing
// else of the module, so tests of every layer can use it.
package kdctest
