// Package acceptor is the server side of HTTP Negotiate: net/http middleware
// that verifies Kerberos tokens (SPNEGO or raw krb5) against a keytab,
// answers mutual authentication with an AP-REP, and hands the handler the
// authenticated identity through the request context.
//
// It can authenticate every request, or, as IIS and HTTP.sys do,
// authenticate a keep-alive connection once and let later requests on it
// through without a header (set [Config.ConnectionBound] and install
// [Authenticator.ConnContext] on the http.Server).
package acceptor
