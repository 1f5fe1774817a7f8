// Package krbtest forges Kerberos material for tests without a KDC: a
// throwaway keytab for a service principal, and service tickets for any
// client, encrypted in that keytab's key exactly as a KDC would.
//
// Everything lives in memory except what a test explicitly writes to its
// temporary directory (KeytabFile), for handing to MIT tools.
package krbtest
