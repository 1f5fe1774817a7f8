package restapis

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// Hadoop's HTTP authentication, as the namenode and the resource manager
// run it (hadoop-auth's AuthenticationFilter with the
// KerberosAuthenticationHandler, or the PseudoAuthenticationHandler when
// security is off):
//
//   - A request with a valid hadoop.auth cookie is authenticated by it,
//     with no Kerberos exchange and no reply token.
//   - Otherwise a request without "Authorization: Negotiate" gets 401 with
//     a bare Negotiate challenge and the cookie cleared.
//   - A Negotiate token is accepted afresh on every request (no
//     connection-bound state, unlike IIS); the response carries the reply
//     token and a new signed cookie, "u=<user>&p=<principal>&t=kerberos&
//     e=<expiry ms>&s=<HMAC-SHA256>", valid for
//     hadoop.http.authentication.token.validity (10 hours). A token that
//     does not verify is a 403, not a 401.
//   - Refusals are Jetty error pages (HTML), not the service's JSON.
//
// Services may let some requests bypass the filter: WebHDFS's AuthFilter
// does for requests that carry a delegation token, which the service then
// checks itself.

// AuthCookie is the name of Hadoop's authentication cookie.
const AuthCookie = "hadoop.auth"

// defaultTokenValidity is hadoop.http.authentication.token.validity.
const defaultTokenValidity = 36000 * time.Second

// HadoopUser is who a request is authenticated as.
type HadoopUser struct {
	Name      string // the short name, "alice"
	Principal string // "alice@REALM", or Name when security is off
	// Via says how the request was authenticated: "spnego", "cookie",
	// "token" (a delegation token) or "simple" (security off).
	Via string
}

type hadoopUserKey struct{}

// HadoopUserFromContext returns the user the filter (or a delegation
// token) authenticated.
func HadoopUserFromContext(ctx context.Context) (*HadoopUser, bool) {
	u, ok := ctx.Value(hadoopUserKey{}).(*HadoopUser)
	return u, ok
}

func withHadoopUser(r *http.Request, u *HadoopUser) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), hadoopUserKey{}, u))
}

// AuthStats counts how the filter authenticated requests.
type AuthStats struct {
	Challenges int64 // 401 answers with a Negotiate challenge
	SPNEGO     int64 // requests authenticated by a Negotiate token
	Cookie     int64 // requests authenticated by the hadoop.auth cookie
	Refused    int64 // 403 answers: a token or cookie that does not verify
	Bypassed   int64 // requests left to the service (delegation tokens)
}

type authCounters struct {
	challenges, spnego, cookie, refused, bypassed atomic.Int64
}

func (c *authCounters) stats() AuthStats {
	return AuthStats{
		Challenges: c.challenges.Load(), SPNEGO: c.spnego.Load(), Cookie: c.cookie.Load(),
		Refused: c.refused.Load(), Bypassed: c.bypassed.Load(),
	}
}

// hadoopAuth is the filter.
type hadoopAuth struct {
	acceptor *gss.Acceptor // nil: security off (pseudo authentication)
	secret   []byte        // the signer's secret
	validity time.Duration
	now      func() time.Time
	bypass   func(*http.Request) bool
	counts   authCounters
}

// newHadoopAuth makes the filter; replays nil means a replay cache in
// memory of its own.
func newHadoopAuth(kt *keytab.Keytab, now func() time.Time, bypass func(*http.Request) bool, replays acceptor.ReplayStore) (*hadoopAuth, error) {
	if now == nil {
		now = time.Now
	}
	a := &hadoopAuth{secret: make([]byte, 32), validity: defaultTokenValidity, now: now, bypass: bypass}
	_, _ = rand.Read(a.secret)
	if kt != nil {
		// "*" as dfs.web.authentication.kerberos.principal: any HTTP/
		// principal of the keytab. Java's GSS keeps a replay cache too.
		if replays == nil {
			replays = acceptor.NewMemoryReplayStore(0)
		}
		acc, err := gss.NewAcceptor(gss.AcceptorConfig{Keytab: kt, ReplayStore: replays})
		if err != nil {
			return nil, err
		}
		a.acceptor = acc
	}
	return a, nil
}

func (a *hadoopAuth) tokenType() string {
	if a.acceptor == nil {
		return "simple"
	}
	return "kerberos"
}

func (a *hadoopAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.bypass != nil && a.bypass(r) {
			a.counts.bypassed.Add(1)
			next.ServeHTTP(w, r)
			return
		}
		user, cookieErr := a.fromCookie(r)
		if user != nil {
			a.counts.cookie.Add(1)
			next.ServeHTTP(w, withHadoopUser(r, user))
			return
		}
		user, err := a.authenticate(w, r)
		switch {
		case err != nil:
			a.counts.refused.Add(1)
			a.refuse(w, r, http.StatusForbidden, err.Error())
			return
		case user == nil:
			a.counts.challenges.Add(1)
			reason := "Authentication required"
			if cookieErr != nil {
				reason = cookieErr.Error()
			}
			a.refuse(w, r, http.StatusUnauthorized, reason)
			return
		}
		if user.Name != "" { // not anonymous: a cookie for the next requests
			a.setCookie(w, r, a.sign(user))
		}
		next.ServeHTTP(w, withHadoopUser(r, user))
	})
}

// authenticate is the handler's authenticate: a user, or nil after
// writing the challenge headers, or the reason a token was refused.
func (a *hadoopAuth) authenticate(w http.ResponseWriter, r *http.Request) (*HadoopUser, error) {
	if a.acceptor == nil {
		// PseudoAuthenticationHandler with anonymous access allowed.
		name := r.URL.Query().Get("user.name")
		return &HadoopUser{Name: name, Principal: name, Via: "simple"}, nil
	}
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, "Negotiate") {
		w.Header().Set("WWW-Authenticate", "Negotiate")
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(authz, "Negotiate")))
	if err != nil {
		return nil, fmt.Errorf("org.apache.hadoop.security.authentication.client.AuthenticationException: %v", err)
	}
	acc, err := a.acceptor.Accept(raw)
	if err != nil {
		return nil, fmt.Errorf("org.apache.hadoop.security.authentication.client.AuthenticationException: GSSException: %v", err)
	}
	if len(acc.Service.NameString) == 0 || acc.Service.NameString[0] != "HTTP" {
		return nil, fmt.Errorf("org.apache.hadoop.security.authentication.client.AuthenticationException: "+
			"java.lang.IllegalArgumentException: Invalid server principal %s decoded from client request", acc.Service.PrincipalNameString())
	}
	if acc.ReplyToken != nil {
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(acc.ReplyToken))
	}
	a.counts.spnego.Add(1)
	return &HadoopUser{Name: shortNameOf(acc.Principal), Principal: acc.Principal, Via: "spnego"}, nil
}

// javaMessage is an error whose text is a Java exception's message, as
// Hadoop writes it (capitalized).
type javaMessage string

func (m javaMessage) Error() string { return string(m) }

// shortNameOf applies the default auth_to_local rule: the first component
// of the principal.
func shortNameOf(principal string) string {
	name, _, _ := strings.Cut(principal, "@")
	name, _, _ = strings.Cut(name, "/")
	return name
}

// sign makes the cookie value for user: the AuthenticationToken string
// and its signature.
func (a *hadoopAuth) sign(user *HadoopUser) string {
	expires := a.now().Add(a.validity).UnixMilli()
	token := fmt.Sprintf("u=%s&p=%s&t=%s&e=%d", user.Name, user.Principal, a.tokenType(), expires)
	return token + "&s=" + a.signature(token)
}

func (a *hadoopAuth) signature(token string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(token))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// fromCookie is getToken: the user of a valid cookie, nil without one, or
// why the cookie was ignored.
func (a *hadoopAuth) fromCookie(r *http.Request) (*HadoopUser, error) {
	c, err := r.Cookie(AuthCookie)
	if err != nil {
		return nil, nil
	}
	if c.Value == "" {
		return nil, javaMessage("Empty token")
	}
	i := strings.LastIndex(c.Value, "&s=")
	if i < 0 {
		return nil, javaMessage("org.apache.hadoop.security.authentication.util.SignerException: Invalid signed text: " + c.Value)
	}
	token, sig := c.Value[:i], c.Value[i+len("&s="):]
	if !hmac.Equal([]byte(sig), []byte(a.signature(token))) {
		return nil, javaMessage("org.apache.hadoop.security.authentication.util.SignerException: Invalid signature")
	}
	attrs := map[string]string{}
	for part := range strings.SplitSeq(token, "&") {
		k, v, _ := strings.Cut(part, "=")
		attrs[k] = v
	}
	expires, err := strconv.ParseInt(attrs["e"], 10, 64)
	switch {
	case attrs["u"] == "" || attrs["p"] == "" || attrs["t"] == "" || err != nil:
		return nil, javaMessage("Invalid token string, missing attributes")
	case attrs["t"] != a.tokenType():
		return nil, javaMessage("Invalid AuthenticationToken type")
	case expires != -1 && a.now().UnixMilli() > expires:
		return nil, javaMessage("AuthenticationToken expired")
	}
	return &HadoopUser{Name: attrs["u"], Principal: attrs["p"], Via: "cookie"}, nil
}

// setCookie is createAuthCookie: a session cookie (not persistent, so no
// Expires), Secure over HTTPS.
func (a *hadoopAuth) setCookie(w http.ResponseWriter, r *http.Request, value string) {
	v := AuthCookie + "="
	if value != "" {
		v += `"` + value + `"`
	}
	v += "; Path=/"
	if r.TLS != nil {
		v += "; Secure"
	}
	w.Header().Add("Set-Cookie", v+"; HttpOnly")
}

// refuse answers as the filter does when it does not pass a request on:
// the cookie cleared, and Jetty's error page with the status and reason.
func (a *hadoopAuth) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	a.setCookie(w, r, "")
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		status = http.StatusForbidden
	}
	jettyError(w, r, status, reason)
}

// jettyError writes the error page Jetty's sendError makes.
func jettyError(w http.ResponseWriter, r *http.Request, status int, reason string) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.Header().Set("Cache-Control", "must-revalidate,no-cache,no-store")
	w.WriteHeader(status)
	msg := html.EscapeString(reason)
	_, _ = fmt.Fprintf(w, "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"+
		"<title>Error %d %s</title>\n</head>\n<body><h2>HTTP ERROR %d</h2>\n<p>Problem accessing %s. Reason:\n"+
		"<pre>    %s</pre></p>\n</body>\n</html>\n", status, msg, status, html.EscapeString(r.URL.Path), msg)
}

// NewHadoopServer returns the HTTP server of a Hadoop daemon (Jetty in
// Hadoop) serving h: over TLS when tlsConfig is set (use ServeTLS with
// empty file names), HTTP/1.1 only.
func NewHadoopServer(h http.Handler, tlsConfig *tls.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 30 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}
