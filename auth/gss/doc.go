// Package gss is the Kerberos V5 GSS-API mechanism (RFC 4121) as HTTP
// Negotiate needs it, with no HTTP in it: the initiator builds AP-REQ tokens
// (raw krb5 or wrapped in SPNEGO) and verifies the acceptor's AP-REP for
// mutual authentication; the acceptor verifies AP-REQs against a keytab and
// answers with an AP-REP. The established [SecurityContext] is exported so
// that other modules (WinRM message encryption) can use its keys and
// sequence numbers.
package gss
