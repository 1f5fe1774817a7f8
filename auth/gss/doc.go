// Package gss is the Kerberos V5 GSS-API mechanism (RFC 4121) as HTTP
// Negotiate needs it, with no HTTP in it: the initiator builds AP-REQ tokens
// (raw krb5 or wrapped in SPNEGO) and verifies the acceptor's AP-REP for
// mutual authentication; the acceptor verifies AP-REQs against a keytab and
// answers with an AP-REP. The established [SecurityContext] is exported so
// that other modules (WinRM message encryption) can use its keys and
// sequence numbers.
//
// It needs a ticket (package ticket) and nothing that produces one: no KDC
// client, no credential cache, no krb5.conf. Package credentials hands out
// tickets; packages auth, acceptor and wsman use this one.
//
// # What gokrb5 does not do, and this package does
//
// gokrb5 v8 supplies the Kerberos messages and ciphers. On top of them this
// package writes the authenticator checksum (flags, channel bindings,
// delegation), builds and reads the KRB-CRED that carries a delegated TGT
// ([MarshalKRBCred], [ParseKRBCred]; gokrb5 builds none and cannot read
// MIT's), builds and verifies AP-REPs, compares the client realm of the
// authenticator with the ticket's and with the accepted realms, keeps an
// atomic, bounded replay cache, and decodes all token framing itself.
//
// # Hostile input
//
// Tokens are untrusted. The framing (GSS InitialContextToken, SPNEGO) is
// parsed by a bounds-checked DER reader; Kerberos messages are DER-checked
// before gokrb5 decodes them, because its asn1 fork ignores the length of
// explicit tags; ciphertexts are length-checked before gokrb5 decrypts
// them, because it slices without checking. A recover around the gokrb5
// decoders remains as a last line of defence. Every error wraps one of the
// sentinel errors (ErrMalformedToken, ErrMutualAuth, ...), so callers can
// classify failures with errors.Is.
//
// # Interoperability
//
// The tests run MIT's GSS-API (through python3-gssapi) as acceptor and as
// initiator against this package, both token formats, with and without
// mutual authentication and channel bindings, and MIT's acceptor takes the
// credentials this package delegates.
package gss
