package auth

import (
	"errors"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"

	"github.com/krbhttp/krbhttp/auth/credentials"
)

// remedy says what a program using this package can do about a failure to
// authenticate, keyed to the typed cause, in terms of this package's
// options; it is "" when there is nothing better to say than the cause.
// Command-line tools say the same in terms of their flags (package
// authflag).
func remedy(err error) string {
	var kdcErr *credentials.KDCError
	switch {
	case errors.Is(err, credentials.ErrKDCUnreachable):
		return "check the kdc lines of the realm in krb5.conf (KRB5_CONFIG) and that the network reaches them"
	case errors.As(err, &kdcErr) && kdcErr.Code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return "the KDC knows no service principal by that name: when the URL's host is an alias or an address, " +
			"name the host the service is registered under with WithHostnameOverride"
	case errors.As(err, &kdcErr) && kdcErr.Code == errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
		return "the KDC knows no such client principal: check WithPrincipal"
	case errors.Is(err, credentials.ErrPreauthFailed):
		return "the password or key is wrong (a keytab must hold the principal's current key)"
	case errors.Is(err, credentials.ErrExpired):
		return "the ticket has expired: run kinit again, or log in with WithPassword or WithKeytab"
	case errors.Is(err, credentials.ErrNoCredentials):
		return "no Kerberos ticket: run kinit, or log in with WithPrincipal and WithPassword or WithKeytab"
	}
	return ""
}
