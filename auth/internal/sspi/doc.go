// Package sspi is the client side of Windows' Security Support Provider
// Interface for the Negotiate and Kerberos packages: the logged-on user's
// credentials (AcquireCredentialsHandle), security contexts
// (InitializeSecurityContext) with mutual authentication, delegation and
// channel bindings, and WinRM message encryption (EncryptMessage,
// DecryptMessage).
//
// It sits above auth/credentials and auth/gss, whose errors it reports,
// and below auth, whose Transport uses it on Windows when no explicit
// credentials are configured. The calls into Windows are in the
// *_windows.go files; the byte layouts around them (the
// SEC_CHANNEL_BINDINGS structure, the two ways an EncryptMessage
// implementation splits a wrap token, the status codes) are portable, so
// their tests run on every system.
package sspi
