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

	"github.com/krbhttp/krbhttp/auth/gss"
)

// ChannelBindingPolicy says what the acceptor does with TLS channel
// bindings (Extended Protection for Authentication).
type ChannelBindingPolicy int

const (
	// BindingNone ignores channel bindings.
	BindingNone ChannelBindingPolicy = iota
	// BindingRelaxed checks bindings when the client sent some (IIS
	// "Allow", WinRM's default): wrong bindings are refused, none pass.
	BindingRelaxed
	// BindingStrict refuses clients that send no bindings or wrong ones
	// (IIS "Require").
	BindingStrict
)

// Config configures an [Authenticator].
type Config struct {
	// Keytab holds the service keys; required.
	Keytab *keytab.Keytab
	// Service restricts the accepted service principal ("HTTP/host");
	// empty accepts any principal the keytab has keys for.
	Service string
	// Realms lists the accepted client realms; empty means the keytab's.
	Realms []string
	// ConnectionBound authenticates a connection once, as IIS does.
	ConnectionBound bool
	// ChannelBinding is the channel-binding policy; Certificate must be set
	// for any policy but BindingNone.
	ChannelBinding ChannelBindingPolicy
	// Certificate is the server's TLS leaf certificate, from which the
	// expected tls-server-end-point bindings are computed.
	Certificate *x509.Certificate
	// ReplayCacheSize bounds the replay cache (default 100000 entries).
	ReplayCacheSize int
	// MaxHeaderBytes bounds the Authorization header; longer ones get 400
	// as IIS answers (default 64 KiB).
	MaxHeaderBytes int
	// MaxSkew is the clock skew tolerated on authenticators and ticket
	// lifetimes; zero means 5 minutes, as MIT and Windows allow.
	MaxSkew time.Duration
	// Logger receives failures at info level; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Identity is what the handler learns about an authenticated client.
type Identity struct {
	Principal      string // "alice@EXAMPLE.TEST"
	Realm          string
	Flags          gss.Flags
	Delegated      bool   // the client forwarded a TGT
	Delegation     []byte // the KRB-CRED it forwarded
	ChannelBound   bool   // the client's bindings matched this server's certificate
	ConnectionAuth bool   // the request passed on an already authenticated connection
	Context        *gss.SecurityContext
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
}

// New returns an Authenticator for cfg.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Keytab == nil {
		return nil, errors.New("acceptor: Config.Keytab is required")
	}
	if cfg.ChannelBinding != BindingNone && cfg.Certificate == nil {
		return nil, errors.New("acceptor: a channel-binding policy needs Config.Certificate")
	}
	if cfg.ReplayCacheSize == 0 {
		cfg.ReplayCacheSize = 100000
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	var bindings []byte
	if cfg.Certificate != nil && cfg.ChannelBinding != BindingNone {
		bindings = gss.TLSServerEndPoint(cfg.Certificate)
	}
	acc, err := gss.NewAcceptor(gss.AcceptorConfig{
		Keytab:          cfg.Keytab,
		Service:         cfg.Service,
		Realms:          cfg.Realms,
		ReplayCache:     gss.NewReplayCache(cfg.ReplayCacheSize, 10*time.Minute),
		ChannelBindings: bindings,
		MaxSkew:         cfg.MaxSkew,
		Now:             cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("acceptor: %w", err)
	}
	return &Authenticator{cfg: cfg, acceptor: acc}, nil
}

type connKey struct{}

// connState is the per-connection record of ConnectionBound mode.
type connState struct {
	mu sync.Mutex
	id *Identity
}

// ConnContext is for http.Server.ConnContext: it gives each connection the
// slot where ConnectionBound mode remembers who authenticated it.
func (a *Authenticator) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

// Wrap returns next behind Negotiate authentication.
func (a *Authenticator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state, _ := r.Context().Value(connKey{}).(*connState)
		header := r.Header.Get("Authorization")
		if header == "" && a.cfg.ConnectionBound && state != nil {
			state.mu.Lock()
			id := state.id
			state.mu.Unlock()
			if id != nil {
				again := *id
				again.ConnectionAuth = true
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, &again)))
				return
			}
		}
		if len(header) > a.cfg.MaxHeaderBytes {
			http.Error(w, "Bad Request - Request Too Long", http.StatusBadRequest)
			return
		}
		scheme, value, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "Negotiate") && !strings.EqualFold(scheme, "Kerberos") {
			a.challenge(w, r, "no Negotiate authorization")
			return
		}
		token, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			a.challenge(w, r, "authorization token is not base64")
			return
		}
		accepted, err := a.acceptor.Accept(token)
		if err != nil {
			a.challenge(w, r, err.Error())
			return
		}
		id := &Identity{
			Principal:    accepted.Principal,
			Realm:        accepted.ClientRealm,
			Flags:        accepted.Flags,
			Delegated:    len(accepted.Delegation) > 0,
			Delegation:   accepted.Delegation,
			ChannelBound: accepted.BindingsMatch,
			Context:      accepted.Context,
		}
		if a.cfg.ChannelBinding == BindingStrict && !id.ChannelBound {
			a.challenge(w, r, "channel bindings required")
			return
		}
		if accepted.ReplyToken != nil {
			w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(accepted.ReplyToken))
		}
		if a.cfg.ConnectionBound && state != nil {
			state.mu.Lock()
			state.id = id
			state.mu.Unlock()
			w.Header().Set("Persistent-Auth", "true")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// challenge answers 401 with the challenges IIS sends, one header line
// each.
func (a *Authenticator) challenge(w http.ResponseWriter, r *http.Request, reason string) {
	if a.cfg.Logger != nil {
		a.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "acceptor: unauthenticated request",
			slog.String("remote", r.RemoteAddr), slog.String("reason", reason))
	}
	w.Header().Add("WWW-Authenticate", "Negotiate")
	http.Error(w, "401 - Unauthorized: Access is denied due to invalid credentials.", http.StatusUnauthorized)
}
