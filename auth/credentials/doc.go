// Package credentials is where Kerberos tickets come from: the MIT-style
// default credential cache (KRB5CCNAME, FILE: and DIR: collections,
// default_ccache_name), explicit principals, password and keytab logins
// (and [LoadKeytab], the module's keytab loader, which servers use too),
// and TGTs a client delegated.
//
// It sits above the configuration (package krb5conf, which it reads for
// realms, KDCs and default names), the ticket type (package ticket, what
// it hands out), the KDC client and the credential caches (internal), and
// below everything that uses tickets: the HTTP transport in package auth
// asks a [Source] for service tickets, and any implementation (including
// a gomock mock) can stand in for the KDC. Package gss, which turns a
// ticket into tokens, does not import it.
//
// Four sources are provided, all safe for concurrent use and all
// implementing [TGTSource]: [CCacheSource] (what kinit left, re-read when
// it changes), [PasswordSource] and [KeytabSource] (their own AS exchange,
// repeated when the TGT nears expiry), and [DelegatedSource] (a TGT a
// client delegated to a server, for the second hop). Each keeps the
// service tickets it obtains in memory, keyed by service principal and
// realm, makes one KDC request however many goroutines ask for the same
// ticket at once, and replaces tickets before they expire (see
// [DefaultRefreshBefore]). All also implement [Dropper]: a ticket a server
// refused (its key was rotated) is dropped, and the next call gets a fresh
// one, with a hold-off ([RefusedHoldOff]) for services that refuse every
// ticket. No source starts a goroutine: refreshing happens in the call
// that needs it.
//
// KDC exchanges take the caller's context, go to the KDCs listed in
// krb5.conf over UDP then TCP, and fail with errors that match the
// sentinels of this package ([ErrKDCUnreachable], [ErrPreauthFailed],
// [ErrPrincipalUnknown], ...) and name the client and service principals.
package credentials
