// Package ticket holds the values the rest of the module passes around once
// a ticket exists: [Ticket] (a Kerberos ticket with its session key, client
// and times) and Kerberos principal names, parsed and written as MIT's
// krb5_parse_name and krb5_unparse_name do.
//
// It sits at the bottom of the module, beside package krb5conf: it does no
// I/O and imports only gokrb5's message and type packages, so that a
// package needing a ticket (gss builds tokens from one) does not pull in
// the KDC client or the credential caches that produce tickets (package
// credentials).
package ticket
