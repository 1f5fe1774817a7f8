package acceptor

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
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

// Defaults of [WithReplayCacheSize] and [WithMaxHeaderBytes].
const (
	// DefaultReplayCacheSize bounds the replay cache with the default
	// 5-minute clock skew: [DefaultReplayRate] authentications a second
	// for twice the skew plus ten seconds (610,000 entries, about 30 MB
	// when full). With a larger skew the default grows with it.
	DefaultReplayCacheSize = DefaultReplayRate * (2*5*60 + 10)
	DefaultMaxHeaderBytes  = 64 << 10
)

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
	cfg      config
	acceptor *gss.Acceptor
	ownStore io.Closer // the file store New opened (WithReplayCacheDir), closed by Close
	failures failureLog

	confOnce sync.Once
	conf     *krb5conf.Config // for delegated credentials; set by confOnce
	confErr  error

	// service is the last service name written for an Identity: a server
	// usually has one, and its requests share the string.
	service atomic.Pointer[serviceName]
}

type serviceName struct {
	name  types.PrincipalName
	realm string
	s     string
}

// serviceString returns ticket.PrincipalString(name, realm), reusing the
// last one written when it is for the same name.
func (a *Authenticator) serviceString(name types.PrincipalName, realm string) string {
	if last := a.service.Load(); last != nil && last.realm == realm && last.name.Equal(name) {
		return last.s
	}
	last := &serviceName{name: name, realm: realm, s: ticket.PrincipalString(name, realm)}
	a.service.Store(last)
	return last.s
}

// New returns an Authenticator that verifies tokens with the service keys
// in kt, which is only read: it may be shared, but must not be modified
// while the Authenticator is in use. Usually kt comes from
// credentials.LoadKeytab("/etc/krb5.keytab").
func New(kt *keytab.Keytab, opts ...Option) (*Authenticator, error) {
	if kt == nil {
		return nil, errors.New("acceptor: New: nil keytab")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	var bindings []byte
	if cfg.channelBinding != BindingNone {
		bindings = gss.TLSServerEndPoint(cfg.certificate)
	}
	gcfg := gss.AcceptorConfig{
		Keytab:                 kt,
		Service:                cfg.service,
		Realms:                 cfg.realms,
		ChannelBindings:        bindings,
		RequireChannelBindings: cfg.channelBinding == BindingStrict,
		MaxSkew:                cfg.maxSkew,
		Now:                    cfg.now,
	}
	a := &Authenticator{cfg: cfg}
	store, err := a.replayStore()
	if err != nil {
		return nil, err
	}
	gcfg.ReplayStore = store
	if a.acceptor, err = gss.NewAcceptor(gcfg); err != nil {
		_ = a.Close()
		return nil, fmt.Errorf("acceptor: %w", err)
	}
	if cfg.krb5conf != nil {
		a.confOnce.Do(func() { a.conf = cfg.krb5conf })
	}
	return a, nil
}

// replayStore returns the store the options chose: the caller's
// (WithReplayStore), a file in a directory (WithReplayCacheDir, opened
// here and closed by Close), or one in memory.
func (a *Authenticator) replayStore() (ReplayStore, error) {
	cfg := &a.cfg
	if cfg.replayStore != nil {
		if cfg.replayDirSet || cfg.replayCacheSize != 0 {
			return nil, errors.New("acceptor: WithReplayStore excludes WithReplayCacheDir and WithReplayCacheSize, which configure the stores New makes")
		}
		return cfg.replayStore, nil
	}
	size := cfg.replayCacheSize
	if size == 0 {
		size = replayCacheSizeFor(cmp.Or(cfg.maxSkew, 5*time.Minute))
	}
	if !cfg.replayDirSet {
		return NewMemoryReplayStore(size), nil
	}
	path := ReplayCacheFile(cfg.replayDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("acceptor: replay cache directory: %w", err)
	}
	fs, err := OpenFileReplayStore(path, size)
	if err != nil {
		return nil, err
	}
	a.ownStore = fs
	return fs, nil
}

// Close releases what New opened: the replay cache file of
// [WithReplayCacheDir]. Requests authenticated after Close are refused. A
// store given with [WithReplayStore] is the caller's to close.
func (a *Authenticator) Close() error {
	if a.ownStore == nil {
		return nil
	}
	return a.ownStore.Close()
}

type connKey struct{}

// connState is the per-connection record of connection-bound
// authentication ([WithConnectionBound]).
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
// slot where connection-bound authentication ([WithConnectionBound])
// remembers who authenticated it.
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
	if !a.cfg.connectionBound {
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
	case len(values[0]) > a.cfg.maxHeaderBytes:
		return nil, http.StatusBadRequest, "", fmt.Sprintf("Authorization header of %d bytes exceeds %d", len(values[0]), a.cfg.maxHeaderBytes)
	}
	scheme, token, ok := parseAuthorization(values[0])
	if !ok {
		return nil, http.StatusUnauthorized, "", "no Negotiate or Kerberos authorization"
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, http.StatusBadRequest, "", "authorization token is not base64"
	}
	accepted, err := a.acceptor.AcceptContext(r.Context(), raw)
	if errors.Is(err, gss.ErrReplayStore) {
		// Not the client's fault, and not to be retried with another
		// token at once: the server cannot take authentications now.
		return nil, http.StatusServiceUnavailable, "", err.Error()
	}
	if err != nil {
		return nil, http.StatusUnauthorized, "", err.Error()
	}
	id = &Identity{
		Principal:           accepted.Principal,
		Realm:               accepted.ClientRealm,
		Service:             a.serviceString(accepted.Service, accepted.Ticket.Realm),
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
		reply = replyHeader(scheme, accepted.ReplyToken)
	}
	return id, http.StatusOK, reply, ""
}

// replyHeader writes "<scheme> <base64 token>" in one allocation.
func replyHeader(scheme string, token []byte) string {
	enc := base64.StdEncoding
	var b strings.Builder
	b.Grow(len(scheme) + 1 + enc.EncodedLen(len(token)))
	b.WriteString(scheme)
	b.WriteByte(' ')
	var out [4 * 128]byte
	for len(token) > 0 {
		n := min(len(token), 3*128) // a multiple of 3: no padding until the end
		enc.Encode(out[:], token[:n])
		b.Write(out[:enc.EncodedLen(n)])
		token = token[n:]
	}
	return b.String()
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
func (a *Authenticator) delegatedSource(ctx context.Context, tgt *ticket.Ticket, principal string) *credentials.DelegatedSource {
	a.confOnce.Do(func() { a.conf, a.confErr = krb5conf.Load() })
	err := a.confErr
	var src *credentials.DelegatedSource
	if err == nil {
		var opts []credentials.Option
		if a.cfg.logger != nil {
			opts = append(opts, credentials.WithLogger(a.cfg.logger))
		}
		if a.cfg.now != nil {
			opts = append(opts, credentials.WithClock(a.cfg.now))
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
	if status == http.StatusServiceUnavailable {
		a.failures.log(a, r, reason)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "503 - Service Unavailable: authentication cannot be recorded.", status)
		return
	}
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
	if a.cfg.logger != nil {
		a.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
	}
}

// failureLog logs replay store failures at error level, at most one line
// a second with the count of those it held back: when a store is full or
// down every authentication fails, and the log must say so without
// drowning.
type failureLog struct {
	mu         sync.Mutex
	last       time.Time // guarded by mu
	suppressed int       // guarded by mu
}

func (f *failureLog) log(a *Authenticator, r *http.Request, reason string) {
	if a.cfg.logger == nil {
		return
	}
	now := time.Now()
	f.mu.Lock()
	if now.Sub(f.last) < time.Second {
		f.suppressed++
		f.mu.Unlock()
		return
	}
	held := f.suppressed
	f.last, f.suppressed = now, 0
	f.mu.Unlock()
	a.log(r.Context(), slog.LevelError, "acceptor: authentication refused, the replay store cannot record it (fail closed)",
		slog.String("remote", r.RemoteAddr), slog.String("reason", reason), slog.Int("more_since_last_report", held))
}
