package auth

import "github.com/krbhttp/krbhttp/auth/gss"

// secContext is the client side of one security context as the transport
// drives it. The pure-Go *gss.Initiator, built from a ticket a
// credentials.Source hands out, is one; on Windows, when no credential
// option is given, SSPI's context for the logged-on user is the other
// (sspi_windows.go), because SSPI never hands out tickets: it builds the
// token itself.
type secContext = gss.ClientContext

// usesDefaultCredentials reports whether no option chose the credentials:
// no source, principal, password, keytab or cache name. On Windows those
// are the logged-on user's, through SSPI; elsewhere the default
// credential cache's.
func (c *config) usesDefaultCredentials() bool {
	return c.source == nil && c.principal == "" && c.password == "" && c.keytabPath == "" && c.ccacheName == ""
}

// useSSPI reports whether tokens come from SSPI: on Windows, when no
// option chose the credentials. Explicit principal, password, keytab,
// cache and source options keep the pure-Go path on every system.
func (t *Transport) useSSPI() bool { return hasSSPI && t.cfg.usesDefaultCredentials() }
