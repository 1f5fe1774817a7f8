package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// MutualMode says how the server's reply token is treated, as
// requests-kerberos's mutual_authentication argument does.
type MutualMode int

const (
	// MutualRequired (the default) asks the server to authenticate itself
	// and refuses any successful response that is not authenticated: it
	// must carry a reply token that verifies, or come on a connection that
	// was already mutually authenticated. Error responses without a token
	// are sanitized (see [WithSanitize]).
	MutualRequired MutualMode = iota
	// MutualOptional asks for mutual authentication and verifies a reply
	// token when one is present; responses without one pass untouched.
	MutualOptional
	// MutualDisabled does not ask for mutual authentication and verifies
	// nothing.
	MutualDisabled
)

func (m MutualMode) String() string {
	switch m {
	case MutualRequired:
		return "required"
	case MutualOptional:
		return "optional"
	case MutualDisabled:
		return "disabled"
	}
	return fmt.Sprintf("MutualMode(%d)", int(m))
}

// ParseMutualMode accepts "required", "optional" or "disabled" (any case).
func ParseMutualMode(s string) (MutualMode, error) {
	for _, m := range []MutualMode{MutualRequired, MutualOptional, MutualDisabled} {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, fmt.Errorf("auth: unknown mutual authentication mode %q (want required, optional or disabled)", s)
}

// DefaultReplayBuffer is how many bytes of a request body without GetBody
// are copied as they are sent, so that the request can be replayed if the
// server answers 401 after reading them.
const DefaultReplayBuffer = 1 << 20

// An Option configures a [Transport].
type Option func(*config) error

type config struct {
	source         credentials.Source
	krb5conf       *krb5conf.Config
	principal      string
	password       string
	keytabPath     string
	ccacheName     string
	writeBack      *bool
	renewal        bool
	mutual         MutualMode
	mutualPolicy   func(*http.Request) MutualMode // see mutualpolicy.go
	sanitize       bool
	preemptive     PreemptiveMode
	hostOverride   string
	service        string
	scheme         Scheme
	format         gss.Format
	channelBinding bool
	delegation     DelegationPolicy
	replayBuffer   int
	logger         *slog.Logger
	resolver       *net.Resolver
	kdcTimeout     time.Duration
	refreshAt      float64 // 0: the source's default
}

func defaultConfig() config {
	return config{
		mutual:         MutualRequired,
		sanitize:       true,
		service:        "HTTP",
		scheme:         SchemeNegotiate,
		format:         gss.FormatSPNEGO,
		channelBinding: true,
		replayBuffer:   DefaultReplayBuffer,
	}
}

// WithCredentials supplies service tickets from src instead of the default
// credential cache. It excludes the other credential options.
func WithCredentials(src credentials.Source) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("auth: WithCredentials: nil source")
		}
		c.source = src
		return nil
	}
}

// WithConfig uses cfg instead of loading krb5.conf from KRB5_CONFIG or
// /etc/krb5.conf.
func WithConfig(cfg *krb5conf.Config) Option {
	return func(c *config) error {
		if cfg == nil {
			return errors.New("auth: WithConfig: nil config")
		}
		c.krb5conf = cfg
		return nil
	}
}

// WithPrincipal selects the client principal ("alice" or "alice@REALM").
// Alone, it picks that principal's cache in a DIR: collection (or checks a
// FILE: cache belongs to it); with [WithPassword] or [WithKeytab] it is the
// principal that logs in.
func WithPrincipal(principal string) Option {
	return func(c *config) error {
		if principal == "" {
			return errors.New("auth: WithPrincipal: empty principal")
		}
		c.principal = principal
		return nil
	}
}

// WithPassword logs the principal given by [WithPrincipal] in with a
// password (an AS exchange) instead of using a credential cache. The
// password is kept in memory for re-login and never logged.
func WithPassword(password string) Option {
	return func(c *config) error {
		if password == "" {
			return errors.New("auth: WithPassword: empty password")
		}
		c.password = password
		return nil
	}
}

// WithKeytab logs the principal given by [WithPrincipal] in with the keys
// in the keytab file at path. An empty path means the client keytab as MIT
// finds it (KRB5_CLIENT_KTNAME, then default_client_keytab_name).
func WithKeytab(path string) Option {
	return func(c *config) error {
		c.keytabPath = path
		if path == "" {
			c.keytabPath = defaultClientKeytab
		}
		return nil
	}
}

// defaultClientKeytab marks "use the MIT default client keytab".
const defaultClientKeytab = "\x00default"

// WithCCache names the credential cache instead of the MIT default
// resolution: "FILE:/path" or a bare path, "DIR:/dir", "KCM:",
// "KEYRING:persistent:1000", "MEMORY:name", ... (every form
// [credentials.NewCCacheSource] takes).
func WithCCache(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("auth: WithCCache: empty cache name")
		}
		c.ccacheName = name
		return nil
	}
}

// WithWriteBack says whether service tickets got with the TGT of a
// credential cache are stored in that cache, as MIT's library stores them
// (the default, true): klist lists them, and the next program using the
// cache (the next run of a command, curl --negotiate, kvno) uses them
// instead of asking the KDC. It is [credentials.WithWriteBack] for the
// cache source this transport makes; ignored with WithPassword, WithKeytab
// and WithCredentials.
func WithWriteBack(on bool) Option {
	return func(c *config) error {
		c.writeBack = &on
		return nil
	}
}

// WithRenewal says whether the TGT of a credential cache is renewed, as
// kinit -R would, when it has passed its refresh point and is renewable
// (the default is false). It is [credentials.WithRenewal] for the cache
// source this transport makes; ignored with WithPassword and WithKeytab
// (whose sources always renew) and WithCredentials.
func WithRenewal(on bool) Option {
	return func(c *config) error {
		c.renewal = on
		return nil
	}
}

// WithMutualAuthentication sets the mutual authentication mode; the
// default is [MutualRequired].
func WithMutualAuthentication(m MutualMode) Option {
	return func(c *config) error {
		if m < MutualRequired || m > MutualDisabled {
			return fmt.Errorf("auth: invalid mutual authentication mode %d", int(m))
		}
		c.mutual = m
		return nil
	}
}

// WithSanitize switches the sanitizing of unauthenticated error responses
// under [MutualRequired] on (the default) or off. A sanitized response
// keeps its status code but has an empty body and only the Content-Length,
// Date and Server headers, so that nothing an impostor wrote reaches the
// caller.
func WithSanitize(on bool) Option {
	return func(c *config) error {
		c.sanitize = on
		return nil
	}
}

// PreemptiveMode says when a token is sent with a request before any
// server asked for one.
type PreemptiveMode int

const (
	// PreemptiveNever (the default) sends a token only to answer a 401
	// challenge, as requests-kerberos does by default.
	PreemptiveNever PreemptiveMode = iota
	// PreemptiveAfterChallenge sends a token up front to every origin
	// (scheme, host and port) that has once answered with a challenge,
	// which saves the 401 round trip on all later requests to it.
	PreemptiveAfterChallenge
	// PreemptiveAlways sends a fresh token with every request
	// (requests-kerberos's force_preemptive, minus its defect of
	// stopping after the first response).
	PreemptiveAlways
)

func (m PreemptiveMode) String() string {
	switch m {
	case PreemptiveNever:
		return "never"
	case PreemptiveAfterChallenge:
		return "after-challenge"
	case PreemptiveAlways:
		return "always"
	}
	return fmt.Sprintf("PreemptiveMode(%d)", int(m))
}

// ParsePreemptiveMode accepts "never", "after-challenge" or "always" (any
// case), the String values.
func ParsePreemptiveMode(s string) (PreemptiveMode, error) {
	for _, m := range []PreemptiveMode{PreemptiveNever, PreemptiveAfterChallenge, PreemptiveAlways} {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, fmt.Errorf("auth: unknown preemptive mode %q (want never, after-challenge or always)", s)
}

// WithPreemptive sets when tokens are sent without waiting for a 401; the
// default is [PreemptiveNever].
func WithPreemptive(m PreemptiveMode) Option {
	return func(c *config) error {
		if m < PreemptiveNever || m > PreemptiveAlways {
			return fmt.Errorf("auth: invalid preemptive mode %d", int(m))
		}
		c.preemptive = m
		return nil
	}
}

// WithHostnameOverride uses host instead of the request's URL host when
// naming the service principal. Connection and channel-binding state stay
// keyed by the URL host.
func WithHostnameOverride(host string) Option {
	return func(c *config) error {
		if host == "" || strings.ContainsAny(host, "/@ ") {
			return fmt.Errorf("auth: invalid hostname override %q", host)
		}
		c.hostOverride = strings.ToLower(host)
		return nil
	}
}

// WithService sets the service class of the service principal name, the
// part before the slash (requests-kerberos's service argument): the
// default is "HTTP", and "WSMAN" is sometimes used for WinRM. The host
// part comes from the request's URL or [WithHostnameOverride].
func WithService(service string) Option {
	return func(c *config) error {
		if service == "" || strings.ContainsAny(service, "/@ ") {
			return fmt.Errorf("auth: invalid service class %q (want a class such as HTTP, without host or realm)", service)
		}
		c.service = service
		return nil
	}
}

// Scheme is the HTTP authentication scheme the transport answers and
// sends its tokens under.
type Scheme string

const (
	// SchemeNegotiate (the default) is RFC 4559's "Negotiate", with SPNEGO
	// tokens unless [WithRawKerberos] is given.
	SchemeNegotiate Scheme = "Negotiate"
	// SchemeKerberos is the "Kerberos" scheme some Microsoft services
	// offer (WinRM lists it beside Negotiate), which carries raw Kerberos
	// tokens.
	SchemeKerberos Scheme = "Kerberos"
)

// WithScheme sets the authentication scheme (default [SchemeNegotiate]).
// Only challenges of that scheme are answered.
func WithScheme(s Scheme) Option {
	return func(c *config) error {
		switch {
		case strings.EqualFold(string(s), string(SchemeNegotiate)):
			c.scheme = SchemeNegotiate
		case strings.EqualFold(string(s), string(SchemeKerberos)):
			c.scheme = SchemeKerberos
		default:
			return fmt.Errorf("auth: unknown authentication scheme %q (want Negotiate or Kerberos)", s)
		}
		return nil
	}
}

// ParseScheme accepts "negotiate" or "kerberos" in any case.
func ParseScheme(s string) (Scheme, error) {
	var c config
	if err := WithScheme(Scheme(s))(&c); err != nil {
		return "", err
	}
	return c.scheme, nil
}

// WithRawKerberos sends raw GSS-API Kerberos tokens, as requests-kerberos
// does, instead of SPNEGO NegTokenInit tokens.
func WithRawKerberos() Option {
	return func(c *config) error {
		c.format = gss.FormatKRB5
		return nil
	}
}

// WithChannelBinding switches RFC 5929 tls-server-end-point channel
// bindings over TLS on (the default) or off. Off helps with old servers
// that reject tokens carrying bindings.
//
// A token answering a challenge is bound to the certificate of the
// response that carried the challenge. A token sent up front
// ([WithPreemptive]) is bound to the
// certificate last seen for the same scheme, host and port; when none has
// been seen yet and the base transport is an [*http.Transport] (the
// default is one), or wraps one and returns it from a
// WrappedRoundTripper method (client-go's convention), the transport
// learns it first with a TLS handshake of its own, made with that
// transport's dialer and TLS settings, once per origin. It does not when
// the base would use a proxy for the request, nor with any other kind of
// base transport: that first token then carries no
// bindings, and a server that insists on them answers with a challenge,
// which is then answered with a bound token.
func WithChannelBinding(on bool) Option {
	return func(c *config) error {
		c.channelBinding = on
		return nil
	}
}

// DelegationPolicy says when the transport delegates the user's
// credentials (a forwarded TGT) to the server, as requests-kerberos's
// delegate and curl's --delegation do.
type DelegationPolicy int

const (
	// DelegateNever (the default) delegates nothing.
	DelegateNever DelegationPolicy = iota
	// DelegateAlways delegates to every server.
	DelegateAlways
	// DelegatePolicy delegates only to services the KDC marks
	// OK-AS-DELEGATE (ticket flag ok-as-delegate, set by a domain admin as
	// "trusted for delegation"), as Windows and curl --delegation policy
	// do. To other services the token is sent without delegation.
	DelegatePolicy
)

func (p DelegationPolicy) String() string {
	switch p {
	case DelegateNever:
		return "never"
	case DelegateAlways:
		return "always"
	case DelegatePolicy:
		return "policy"
	}
	return fmt.Sprintf("DelegationPolicy(%d)", int(p))
}

// ParseDelegationPolicy accepts "never" (or curl's "none"), "always" or
// "policy", in any case: the String values, and curl's --delegation
// levels.
func ParseDelegationPolicy(s string) (DelegationPolicy, error) {
	if strings.EqualFold(s, "none") {
		return DelegateNever, nil
	}
	for _, p := range []DelegationPolicy{DelegateNever, DelegateAlways, DelegatePolicy} {
		if strings.EqualFold(s, p.String()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("auth: unknown delegation policy %q (want never, always or policy)", s)
}

// WithDelegation delegates the user's credentials to the server under
// policy p (requests-kerberos delegate=True is DelegateAlways): the token
// carries the GSS delegation flag and a KRB-CRED holding a forwarded TGT,
// encrypted in the service ticket's session key, so that the server can
// act as the user towards further services (the "double hop" of IIS and
// WinRM).
//
// Delegation needs a forwardable TGT. Password and keytab logins ask for
// one when delegation is on; a credential cache must hold one (kinit -f,
// or forwardable = true in krb5.conf). When the TGT is not forwardable the
// request is not sent with an undelegated token: the token cannot be
// built, the server's 401 is returned, and [ResponseError] gives a
// [*DelegationError] naming the fix. A source given with [WithCredentials]
// must implement [credentials.TGTSource].
func WithDelegation(p DelegationPolicy) Option {
	return func(c *config) error {
		if p < DelegateNever || p > DelegatePolicy {
			return fmt.Errorf("auth: invalid delegation policy %d", int(p))
		}
		c.delegation = p
		return nil
	}
}

// WithReplayBuffer bounds the copy kept of a body without GetBody (default
// [DefaultReplayBuffer]). Such a body is sent at once, as net/http sends
// it, never read ahead; a copy of what the base transport reads from it is
// kept up to n bytes. If the server answers 401, the body is sent again: as
// it is when none of it had been read (a large body asks for
// "Expect: 100-continue", so a server that challenges it does so before
// reading it), else from the copy followed by the rest. When more than n
// bytes had been read, the request fails with [ErrBodyNotReplayable]. 0
// keeps no copy. Bodies with GetBody (http.NewRequest sets it for bytes,
// strings and buffers) are rewound with it and never copied.
func WithReplayBuffer(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("auth: negative replay buffer %d", n)
		}
		c.replayBuffer = n
		return nil
	}
}

// WithKDCTimeout bounds each attempt to reach one KDC when the transport
// gets tickets itself (credential cache, [WithPassword], [WithKeytab]);
// the request's context bounds the whole exchange. The default is
// credentials' (3 s). A source given with [WithCredentials] has its own.
func WithKDCTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("auth: WithKDCTimeout: %v is not positive", d)
		}
		c.kdcTimeout = d
		return nil
	}
}

// WithRefreshFraction sets the part of their lifetime after which the
// transport's own tickets are replaced (see
// [credentials.WithRefreshFraction]; the default is
// [credentials.DefaultRefreshFraction]). A source given with
// [WithCredentials] has its own.
func WithRefreshFraction(f float64) Option {
	return func(c *config) error {
		if !(f > 0 && f < 1) {
			return fmt.Errorf("auth: WithRefreshFraction: %v is not between 0 and 1", f)
		}
		c.refreshAt = f
		return nil
	}
}

// WithLogger logs the handshake at debug level (and failures at warn) to l.
// Tokens, keys and passwords are never logged. The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithResolver sets the DNS resolver used to canonicalize host names when
// krb5.conf asks for it (dns_canonicalize_hostname, rdns), and, for the
// ticket sources the transport makes, to find KDCs and realms
// (dns_lookup_kdc, dns_lookup_realm; see credentials.WithResolver).
// Canonical names are cached for one minute per host (net.Resolver does
// not report the records' TTLs, so the lifetime is fixed and short);
// failed lookups are not cached.
func WithResolver(r *net.Resolver) Option {
	return func(c *config) error {
		c.resolver = r
		return nil
	}
}

func (c *config) validate() error {
	explicit := c.password != "" || c.keytabPath != ""
	if c.password != "" && c.keytabPath != "" {
		return errors.New("auth: WithPassword and WithKeytab exclude each other")
	}
	if explicit && c.principal == "" && c.keytabPath != defaultClientKeytab {
		return errors.New("auth: WithPassword and WithKeytab need WithPrincipal")
	}
	if c.password != "" && c.principal == "" {
		return errors.New("auth: WithPassword needs WithPrincipal")
	}
	if c.source != nil && (explicit || c.principal != "" || c.ccacheName != "" || c.kdcTimeout != 0 || c.refreshAt != 0) {
		return errors.New("auth: WithCredentials excludes the other credential options (WithPrincipal, WithPassword, WithKeytab, WithCCache, WithKDCTimeout, WithRefreshFraction): configure the source instead")
	}
	if c.ccacheName != "" && explicit {
		return errors.New("auth: WithCCache excludes WithPassword and WithKeytab")
	}
	if _, ok := c.source.(credentials.TGTSource); c.source != nil && c.delegation != DelegateNever && !ok {
		return errors.New("auth: WithDelegation needs a credentials.TGTSource; the source given to WithCredentials cannot forward a TGT")
	}
	return nil
}
