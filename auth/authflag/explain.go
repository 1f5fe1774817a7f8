package authflag

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

// Explain says what the user of a command can do about err, in terms of the
// flags [Register] defines, or returns "" when the error says it all. It is
// keyed to the typed cause, so it holds whatever wraps the cause.
func Explain(err error) string {
	var (
		kdcErr *credentials.KDCError
		mutual *auth.MutualAuthenticationError
		proxy  *auth.ProxyAuthError
	)
	switch {
	case err == nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ""
	case errors.As(err, &proxy) && errors.Is(err, auth.ErrMutualAuthentication):
		return "the proxy's reply token does not verify: it is not the proxy its name says, or its keytab is wrong; " +
			"check the proxy URL (-x/--proxy, HTTP_PROXY, HTTPS_PROXY)"
	case errors.As(err, &mutual):
		return "the server did not prove its identity; for a server known not to authenticate itself, " +
			"--mutual=optional accepts responses without a token"
	case errors.Is(err, credentials.ErrNotForwardable):
		return "--delegate needs a forwardable TGT: kinit -f"
	case errors.Is(err, credentials.ErrKDCUnreachable):
		return "no KDC answered: check the kdc lines of the realm in krb5.conf (KRB5_CONFIG) and that the network " +
			"reaches them; --kdc-timeout waits longer for each KDC"
	case errors.As(err, &kdcErr) && kdcErr.Code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return "the KDC knows no service principal for this host: when the URL's host is an alias or an address, " +
			"give the host name the service is registered under with --hostname-override (and its class with --service)"
	case errors.As(err, &kdcErr) && kdcErr.Code == errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
		return "the KDC knows no such client: check --principal"
	case errors.Is(err, credentials.ErrPreauthFailed):
		return "the KDC refused the password or key: check --password-file or --keytab (a keytab must hold the principal's current key)"
	case errors.Is(err, credentials.ErrExpired):
		return "the ticket has expired: run kinit, or log in with --principal and --password-file or --keytab"
	case errors.Is(err, credentials.ErrNoCredentials):
		return "no Kerberos ticket: run kinit, or log in with --principal and --password-file or --keytab"
	case errors.Is(err, auth.ErrTokenRefused):
		return "the server refused the ticket: its keytab may lack the service's current key, the clocks may be too " +
			"far apart, or it may reject channel bindings (--no-cbt)"
	case errors.Is(err, auth.ErrBodyNotReplayable):
		return "the request body could not be sent again after the server's challenge: --preemptive sends the token " +
			"with the first request"
	}
	return ""
}

// SpeaksTLS reports whether the server of a plain http:// URL completes a
// TLS handshake on the URL's port: a request sent there in clear gets a
// 400 ("client sent an HTTP request to an HTTPS server") or bytes that are
// no HTTP response, and the user meant https://. It tries for at most
// two seconds and never sends a request.
func SpeaksTLS(ctx context.Context, u *url.URL) bool {
	if u == nil || u.Scheme != "http" {
		return false
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Only the protocol matters here, not who the server is.
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
