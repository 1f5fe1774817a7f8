// Package acceptor is the server side of HTTP Negotiate: net/http middleware
// that verifies Kerberos tokens against a keytab and hands the handler the
// authenticated [Identity] through the request context.
//
// [Authenticator.Wrap] accepts the Negotiate scheme (SPNEGO NegTokenInit or
// a raw krb5 token, as browsers, curl, Windows and requests-kerberos send
// them) and the Kerberos scheme some WinRM clients use. It checks the
// client realm (gokrb5 does not), refuses replayed authenticators with a
// bounded replay cache of its own that needs no goroutine, and answers
// mutual authentication with an AP-REP carrying an acceptor subkey and
// sequence number, framed as the request was: a SPNEGO accept-completed
// reply or a raw AP-REP.
//
// Channel bindings (Extended Protection) are checked against the server's
// certificate under [BindingRelaxed] (when the client sent some, as IIS
// "Allow" and WinRM by default) or required under [BindingStrict].
//
// A client that delegates credentials (GSS_C_DELEG_FLAG with a forwarded
// TGT, as curl --delegation, requests-kerberos delegate=True and auth's
// WithDelegation send) gives the handler [Identity.Credentials], a
// credentials source that gets service tickets as that user: the second
// hop of a double hop.
//
// It can authenticate every request, or, as IIS and HTTP.sys do,
// authenticate a keep-alive connection once and let later requests on it
// through without a header (set [WithConnectionBound] and install
// [Authenticator.ConnContext] on the http.Server).
//
// Malformed, oversized or repeated Authorization headers get 400, every
// other failure 401 with a Negotiate challenge; the reason goes to the
// optional logger, never to the client, and tokens and keys are never
// logged.
//
// It sits on gss (verifying tokens) and credentials (delegated credentials;
// [credentials.LoadKeytab] reads the service keytab), beside package auth,
// the client side, which it does not import.
package acceptor
