package acceptor

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// ChannelBindingPolicy says what the acceptor does with TLS channel
// bindings (Extended Protection for Authentication).
type ChannelBindingPolicy int

const (
	// BindingNone ignores channel bindings.
	BindingNone ChannelBindingPolicy = iota
	// BindingRelaxed checks bindings when the client sent some (IIS
	// "Allow", WinRM's default): wrong bindings are refused, none pass,
	// unless the client announced that it supports them
	// (KERB_AP_OPTIONS_CBT), which means they were stripped on the way.
	BindingRelaxed
	// BindingStrict refuses clients that send no bindings or wrong ones
	// (IIS "Require"). Over plain HTTP no client can comply.
	BindingStrict
)

func (p ChannelBindingPolicy) String() string {
	switch p {
	case BindingNone:
		return "none"
	case BindingRelaxed:
		return "relaxed"
	case BindingStrict:
		return "strict"
	}
	return fmt.Sprintf("ChannelBindingPolicy(%d)", int(p))
}

// Defaults for the Config fields left zero.
const (
	DefaultReplayCacheSize = 100_000
	DefaultMaxHeaderBytes  = 64 << 10
	// minReplayWindow is twice the default 5-minute clock skew: an
	// authenticator is acceptable for twice the skew, and must be
	// remembered as long.
	minReplayWindow = 10 * time.Minute
)

// Config configures an [Authenticator].
type Config struct {
	// Keytab holds the service keys; required.
	Keytab *keytab.Keytab
	// Service restricts the accepted service principal ("HTTP/host" or
	// "HTTP/host@REALM"); empty accepts any principal the keytab has keys
	// for.
	Service string
	// Realms lists the accepted client realms; empty means the realms of
	// the keytab's keys. A client of another realm is refused even with a
	// ticket that decrypts (a cross-realm trust the service does not mean
	// to honour).
	Realms []string
	// ConnectionBound authenticates a keep-alive connection once, as IIS
	// does: later requests on it pass without an Authorization header and
	// the response says "Persistent-Auth: true". It needs ConnContext on
	// the http.Server; without it every request is authenticated. Like
	// IIS's, it trusts that one connection carries one client's requests:
	// do not use it behind a proxy that multiplexes users onto shared
	// connections.
	ConnectionBound bool
	// ChannelBinding is the channel-binding policy; Certificate must be set
	// for any policy but BindingNone.
	ChannelBinding ChannelBindingPolicy
	// Certificate is the server's TLS leaf certificate, from which the
	// expected tls-server-end-point bindings are computed.
	Certificate *x509.Certificate
	// ReplayCacheSize bounds the replay cache (default
	// DefaultReplayCacheSize entries, each kept for twice MaxSkew, at
	// least 10 minutes). The cache belongs to this Authenticator and has
	// no goroutine.
	ReplayCacheSize int
	// MaxHeaderBytes bounds the Authorization header; longer ones get 400
	// as IIS answers (default DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// MaxSkew is the clock skew tolerated on authenticators and ticket
	// lifetimes; zero means 5 minutes, as MIT and Windows allow.
	MaxSkew time.Duration
	// Krb5Config is the Kerberos configuration delegated credentials use
	// to reach the KDC; nil loads KRB5_CONFIG or /etc/krb5.conf the first
	// time a client delegates.
	Krb5Config *credentials.Config
	// Logger receives refused requests at info level and delegation
	// problems at warn level; nil logs nothing. Tokens and keys are never
	// logged.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Identity is what the handler learns about an authenticated client.
type Identity struct {
	Principal string // "alice@EXAMPLE.TEST"
	Realm     string
	Service   string    // the service principal the ticket was for, "HTTP/host@REALM"
	Flags     gss.Flags // context flags the client asked for
	// Delegated: the client delegated credentials (a forwarded TGT).
	Delegated bool
	// Credentials gets service tickets as the client, with the TGT it
	// delegated: pass it to auth.WithCredentials to call the next service
	// as the user. Nil when nothing was delegated, or when the delegated
	// ticket cannot be used (not a TGT, no Kerberos configuration; the
	// reason is logged).
	Credentials *credentials.DelegatedSource
	// ChannelBindingsSent: the client sent channel bindings.
	ChannelBindingsSent bool
	// ChannelBound: the client's bindings matched this server's
	// certificate (always false under BindingNone).
	ChannelBound bool
	// ConnectionAuth: the request passed on an already authenticated
	// connection, without a token of its own.
	ConnectionAuth bool
	// Context is the established GSS-API context (keys and sequence
	// numbers for message protection).
	Context *gss.SecurityContext
}

type identityKey struct{}

// IdentityFromContext returns the identity the middleware stored.
func IdentityFromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok
}

// Authenticator verifies Negotiate requests. It is safe for concurrent use.
type Authenticator struct {
	cfg      Config
	acceptor *gss.Acceptor

	confOnce sync.Once
	conf     *credentials.Config // for delegated credentials; set by confOnce
	confErr  error
}

// New returns an Authenticator for cfg.
func New(cfg Config) (*Authenticator, error) {
	switch {
	case cfg.Keytab == nil:
		return nil, errors.New("acceptor: Config.Keytab is required")
	case cfg.ChannelBinding < BindingNone || cfg.ChannelBinding > BindingStrict:
		return nil, fmt.Errorf("acceptor: unknown channel-binding policy %d", int(cfg.ChannelBinding))
	case cfg.ChannelBinding != BindingNone && cfg.Certificate == nil:
		return nil, errors.New("acceptor: a channel-binding policy needs Config.Certificate")
	case cfg.ReplayCacheSize < 0 || cfg.MaxHeaderBytes < 0:
		return nil, errors.New("acceptor: negative ReplayCacheSize or MaxHeaderBytes")
	}
	if cfg.ReplayCacheSize == 0 {
		cfg.ReplayCacheSize = DefaultReplayCacheSize
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	window := max(minReplayWindow, 2*cfg.MaxSkew)
	var bindings []byte
	if cfg.ChannelBinding != BindingNone {
		bindings = gss.TLSServerEndPoint(cfg.Certificate)
	}
	acc, err := gss.NewAcceptor(gss.AcceptorConfig{
		Keytab:                 cfg.Keytab,
		Service:                cfg.Service,
		Realms:                 cfg.Realms,
		ReplayCache:            gss.NewReplayCache(cfg.ReplayCacheSize, window),
		ChannelBindings:        bindings,
		RequireChannelBindings: cfg.ChannelBinding == BindingStrict,
		MaxSkew:                cfg.MaxSkew,
		Now:                    cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("acceptor: %w", err)
	}
	a := &Authenticator{cfg: cfg, acceptor: acc}
	if cfg.Krb5Config != nil {
		a.confOnce.Do(func() { a.conf = cfg.Krb5Config })
	}
	return a, nil
}

type connKey struct{}

// connState is the per-connection record of ConnectionBound mode.
type connState struct {
	mu sync.Mutex
	id *Identity // guarded by mu; nil until the connection authenticates
}

func (s *connState) get() *Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

func (s *connState) set(id *Identity) {
	s.mu.Lock()
	s.id = id
	s.mu.Unlock()
}

// ConnContext is for http.Server.ConnContext: it gives each connection the
// slot where ConnectionBound mode remembers who authenticated it.
func (a *Authenticator) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

// Wrap returns next behind Negotiate authentication. Requests without a
// valid token get 401 with a Negotiate challenge; an Authorization header
// that is too long, repeated or not base64 gets 400. The handler finds the
// client's [Identity] with [IdentityFromContext].
func (a *Authenticator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := a.connState(r)
		values := r.Header.Values("Authorization")
		if len(values) == 0 && state != nil {
			if id := state.get(); id != nil {
				again := *id
				again.ConnectionAuth = true
				next.ServeHTTP(w, withIdentity(r, &again))
				return
			}
		}
		id, status, reply, reason := a.authenticate(r, values)
		if status != http.StatusOK {
			if state != nil && len(values) > 0 {
				// A failed attempt ends what the connection had proved.
				state.set(nil)
			}
			a.refuse(w, r, status, reason)
			return
		}
		if reply != "" {
			w.Header().Set("WWW-Authenticate", reply)
		}
		if state != nil {
			state.set(id)
			w.Header().Set("Persistent-Auth", "true")
		}
		next.ServeHTTP(w, withIdentity(r, id))
	})
}

// connState returns the connection's record when authentication is
// connection-bound for r.
func (a *Authenticator) connState(r *http.Request) *connState {
	if !a.cfg.ConnectionBound {
		return nil
	}
	state, _ := r.Context().Value(connKey{}).(*connState)
	return state
}

func withIdentity(r *http.Request, id *Identity) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
}

// authenticate verifies the Authorization header values. It returns the
// identity and the WWW-Authenticate value to answer with, or a refusal
// status (400 or 401) and its reason for the log.
func (a *Authenticator) authenticate(r *http.Request, values []string) (id *Identity, status int, reply, reason string) {
	switch {
	case len(values) == 0:
		return nil, http.StatusUnauthorized, "", "no Authorization header"
	case len(values) > 1:
		return nil, http.StatusBadRequest, "", "more than one Authorization header"
	case len(values[0]) > a.cfg.MaxHeaderBytes:
		return nil, http.StatusBadRequest, "", fmt.Sprintf("Authorization header of %d bytes exceeds %d", len(values[0]), a.cfg.MaxHeaderBytes)
	}
	scheme, token, ok := parseAuthorization(values[0])
	if !ok {
		return nil, http.StatusUnauthorized, "", "no Negotiate or Kerberos authorization"
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, http.StatusBadRequest, "", "authorization token is not base64"
	}
	accepted, err := a.acceptor.Accept(raw)
	if err != nil {
		return nil, http.StatusUnauthorized, "", err.Error()
	}
	id = &Identity{
		Principal:           accepted.Principal,
		Realm:               accepted.ClientRealm,
		Service:             accepted.Service.PrincipalNameString() + "@" + accepted.Ticket.Realm,
		Flags:               accepted.Flags,
		Delegated:           accepted.DelegatedTicket != nil,
		ChannelBindingsSent: accepted.BindingsPresent,
		ChannelBound:        accepted.BindingsMatch,
		Context:             accepted.Context,
	}
	if accepted.DelegatedTicket != nil {
		id.Credentials = a.delegatedSource(r.Context(), accepted.DelegatedTicket, id.Principal)
	}
	if accepted.ReplyToken != nil {
		reply = scheme + " " + base64.StdEncoding.EncodeToString(accepted.ReplyToken)
	}
	return id, http.StatusOK, reply, ""
}

// parseAuthorization splits "Negotiate <token>" (or the Kerberos scheme
// WinRM clients may use), the scheme matched without regard to case. It
// returns the scheme as the reply token must name it.
func parseAuthorization(v string) (scheme, token string, ok bool) {
	s, t, _ := strings.Cut(strings.TrimSpace(v), " ")
	for _, known := range []string{"Negotiate", "Kerberos"} {
		if strings.EqualFold(s, known) {
			return known, strings.TrimSpace(t), true
		}
	}
	return "", "", false
}

// delegatedSource makes the handler's credential source from a delegated
// TGT, or returns nil (and logs why) when it cannot be used.
func (a *Authenticator) delegatedSource(ctx context.Context, tgt *credentials.Ticket, principal string) *credentials.DelegatedSource {
	a.confOnce.Do(func() { a.conf, a.confErr = credentials.LoadConfig() })
	err := a.confErr
	var src *credentials.DelegatedSource
	if err == nil {
		var opts []credentials.Option
		if a.cfg.Logger != nil {
			opts = append(opts, credentials.WithLogger(a.cfg.Logger))
		}
		if a.cfg.Now != nil {
			opts = append(opts, credentials.WithClock(a.cfg.Now))
		}
		src, err = credentials.NewDelegatedSource(a.conf, tgt, opts...)
	}
	if err != nil {
		a.log(ctx, slog.LevelWarn, "acceptor: delegated credentials are unusable",
			slog.String("client", principal), slog.Any("error", err))
		return nil
	}
	return src
}

// refuse answers a refused request: 401 with the Negotiate challenge, or
// 400 for a header that is not even well-formed. Bodies are IIS's.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	a.log(r.Context(), slog.LevelInfo, "acceptor: unauthenticated request",
		slog.String("remote", r.RemoteAddr), slog.Int("status", status), slog.String("reason", reason))
	if status == http.StatusBadRequest {
		http.Error(w, "Bad Request - Invalid Header", status)
		return
	}
	w.Header().Add("WWW-Authenticate", "Negotiate")
	http.Error(w, "401 - Unauthorized: Access is denied due to invalid credentials.", status)
}

func (a *Authenticator) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if a.cfg.Logger != nil {
		a.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
	}
}
