// Package credentials is where Kerberos tickets come from: the MIT-style
// default credential cache (KRB5CCNAME, default_ccache_name; FILE:, DIR:,
// KCM:, KEYRING: and MEMORY: caches and collections), explicit
// principals, password and keytab logins (and [LoadKeytab], the module's
// keytab loader, which servers use too), and TGTs a client delegated.
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
// it changes; the service tickets it gets are written back to the cache,
// as MIT's library does, unless [WithWriteBack] says not to),
// [PasswordSource] and [KeytabSource] (their own AS exchange, repeated
// when the TGT nears expiry), and [DelegatedSource] (a TGT a client
// delegated to a server, for the second hop). Each keeps the
// service tickets it obtains in memory, keyed by service principal and
// realm, makes one KDC request however many goroutines ask for the same
// ticket at once, and replaces tickets once a fraction of their lifetime
// has passed (see [DefaultRefreshFraction]). A failed KDC exchange is not
// repeated at once: the ticket still valid stays in use, and the next
// attempt waits a backoff (one second, doubling up to 30 seconds, while
// the error is a [BackoffError]), so a KDC outage never becomes a storm
// of logins. Password and keytab sources log in once at a time and renew
// a renewable TGT until its renew-till before logging in again; cache
// sources renew with [WithRenewal]. Every source counts its KDC traffic
// ([Stats]). All also implement [Dropper]: a ticket a server
// refused (its key was rotated) is dropped, and the next call gets a fresh
// one, with a hold-off ([RefusedHoldOff]) for services that refuse every
// ticket; a dropped ticket still in the credential cache is skipped there.
// No source starts a goroutine: refreshing happens in the call that needs
// it. (KEYRING: caches are the exception: the process does every keyring
// call on one locked OS thread, started on first use, because Linux keeps
// process and thread keyrings per thread.)
//
// KDC exchanges take the caller's context, go to the KDCs listed in
// krb5.conf over UDP then TCP, and fail with errors that match the
// sentinels of this package ([ErrKDCUnreachable], [ErrPreauthFailed],
// [ErrPrincipalUnknown], ...) and name the client and service principals.
package credentials
