package wsman

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// Defaults.
const (
	// DefaultMaxEnvelopeSize is the largest response the client accepts,
	// and the size stdin is cut to: what Windows' own client announces.
	DefaultMaxEnvelopeSize = 153600
	// DefaultOperationTimeout is how long the server may hold a Receive.
	DefaultOperationTimeout = 20 * time.Second
	// DefaultLocale is the w:Locale of every request.
	DefaultLocale = "en-US"

	// responseGrace is how long after OperationTimeout a response may
	// still come before the request is abandoned: the HTTP read timeout
	// must exceed the operation timeout (pywinrm: 30 s against 20 s).
	responseGrace = 10 * time.Second
	// cleanupTimeout bounds the terminate and delete sent after the
	// caller's context was cancelled.
	cleanupTimeout = 30 * time.Second
)

// Encryption says when messages are encrypted with the Kerberos session
// (MS-WSMV 2.2.9.1) instead of being sent as plain SOAP.
type Encryption int

const (
	// EncryptAuto (the default) encrypts over http and not over https,
	// where TLS protects the messages: what pywinrm and Windows do.
	EncryptAuto Encryption = iota
	// EncryptAlways encrypts over http and inside https too.
	EncryptAlways
	// EncryptNever sends plain SOAP; over http the server must allow
	// unencrypted traffic (AllowUnencrypted).
	EncryptNever
)

func (e Encryption) String() string {
	switch e {
	case EncryptAuto:
		return "auto"
	case EncryptAlways:
		return "always"
	case EncryptNever:
		return "never"
	}
	return fmt.Sprintf("Encryption(%d)", int(e))
}

// ParseEncryption accepts "auto", "always" or "never" (any case).
func ParseEncryption(s string) (Encryption, error) {
	for _, e := range []Encryption{EncryptAuto, EncryptAlways, EncryptNever} {
		if strings.EqualFold(s, e.String()) {
			return e, nil
		}
	}
	return 0, fmt.Errorf("wsman: unknown encryption mode %q (want auto, always or never)", s)
}

// AuthScheme is the HTTP authentication scheme of the encrypted
// connection's handshake; it also decides the encryption protocol string.
type AuthScheme string

const (
	// SchemeNegotiate (the default): "Negotiate", protocol
	// application/HTTP-SPNEGO-session-encrypted.
	SchemeNegotiate AuthScheme = "Negotiate"
	// SchemeKerberos: "Kerberos" with raw Kerberos tokens, protocol
	// application/HTTP-Kerberos-session-encrypted.
	SchemeKerberos AuthScheme = "Kerberos"
)

// ContextInitiator starts the Kerberos context of an encrypted connection.
// [*auth.Transport] implements it (see [auth.Transport.Initiate]); the
// returned context verifies the server's reply and then protects the
// messages (with the keys, or on Windows through SSPI). Implementations
// must be safe for concurrent use.
type ContextInitiator interface {
	Initiate(ctx context.Context, target *url.URL, cert *x509.Certificate) (gss.ClientContext, []byte, error)
}

var _ ContextInitiator = (*auth.Transport)(nil)

// An Option configures a [Client].
type Option func(*config) error

type config struct {
	transport        http.RoundTripper
	authSet          bool // WithAuth was given
	authOpts         []auth.Option
	initiator        ContextInitiator
	encryption       Encryption
	scheme           AuthScheme
	tlsConfig        *tls.Config
	dial             func(ctx context.Context, network, addr string) (net.Conn, error)
	operationTimeout time.Duration
	maxEnvelopeSize  int
	locale           string
	logger           *slog.Logger
	newID            func() string
}

func defaultConfig() config {
	return config{
		scheme:           SchemeNegotiate,
		operationTimeout: DefaultOperationTimeout,
		maxEnvelopeSize:  DefaultMaxEnvelopeSize,
		locale:           DefaultLocale,
	}
}

// WithTransport sends unencrypted messages (https, or http with
// EncryptNever) through rt: an [*auth.Transport], a mock, a transport
// with another authentication. When rt also implements
// [ContextInitiator], as *auth.Transport does, it starts the contexts of
// encrypted connections too. It excludes [WithAuth].
//
// For an *auth.Transport, [WithPreemptiveAfterChallenge] saves a 401
// round trip per request and keeps fault bodies readable under
// MutualRequired; the transport NewClient builds has it.
//
// [WithPreemptiveAfterChallenge]: https://pkg.go.dev/github.com/krbhttp/krbhttp/auth#WithPreemptiveAfterChallenge
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("wsman: WithTransport: nil transport")
		}
		c.transport = rt
		return nil
	}
}

// WithAuth configures the Kerberos transport NewClient builds when
// [WithTransport] is not given: credentials, mutual authentication,
// delegation and so on, as auth options. NewClient adds
// auth.WithPreemptiveAfterChallenge, and auth.WithRawKerberos under
// [SchemeKerberos].
func WithAuth(opts ...auth.Option) Option {
	return func(c *config) error {
		c.authSet = true
		c.authOpts = append(c.authOpts, opts...)
		return nil
	}
}

// WithInitiator starts the contexts of encrypted connections with i
// instead of the transport.
func WithInitiator(i ContextInitiator) Option {
	return func(c *config) error {
		if i == nil {
			return errors.New("wsman: WithInitiator: nil initiator")
		}
		c.initiator = i
		return nil
	}
}

// WithEncryption sets the message encryption mode (default [EncryptAuto]).
func WithEncryption(e Encryption) Option {
	return func(c *config) error {
		if e < EncryptAuto || e > EncryptNever {
			return fmt.Errorf("wsman: invalid encryption mode %d", int(e))
		}
		c.encryption = e
		return nil
	}
}

// WithAuthScheme sets the scheme of the encrypted connections' handshake
// (default [SchemeNegotiate]).
func WithAuthScheme(s AuthScheme) Option {
	return func(c *config) error {
		if s != SchemeNegotiate && s != SchemeKerberos {
			return fmt.Errorf("wsman: unknown auth scheme %q", s)
		}
		c.scheme = s
		return nil
	}
}

// WithTLSConfig sets the TLS configuration of the connections the client
// makes itself: encrypted connections, and the transport NewClient builds
// when WithTransport is not given.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) error {
		c.tlsConfig = cfg.Clone()
		return nil
	}
}

// WithDialer dials the encrypted connections with dial instead of a
// net.Dialer.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *config) error {
		if dial == nil {
			return errors.New("wsman: WithDialer: nil dial function")
		}
		c.dial = dial
		return nil
	}
}

// WithOperationTimeout sets the w:OperationTimeout of every request (default
// 20 s): how long the server may hold a Receive that has no output. A
// request is abandoned when no response came 10 s after it.
func WithOperationTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("wsman: operation timeout %v is under a second", d)
		}
		c.operationTimeout = d
		return nil
	}
}

// WithMaxEnvelopeSize sets the w:MaxEnvelopeSize of every request (default
// 153600): the largest response accepted, and the size each Send of stdin
// is cut to.
func WithMaxEnvelopeSize(n int) Option {
	return func(c *config) error {
		if n < 8192 || n > 64<<20 {
			return fmt.Errorf("wsman: MaxEnvelopeSize %d outside 8192..64 MiB", n)
		}
		c.maxEnvelopeSize = n
		return nil
	}
}

// WithLocale sets w:Locale and p:DataLocale (default "en-US").
func WithLocale(locale string) Option {
	return func(c *config) error {
		if locale == "" {
			return errors.New("wsman: WithLocale: empty locale")
		}
		c.locale = locale
		return nil
	}
}

// WithLogger logs the exchanges at debug level to l. Message bodies,
// tokens and keys are never logged. The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

func (c *config) validate() error {
	if c.transport != nil && c.authSet {
		return errors.New("wsman: WithTransport excludes WithAuth")
	}
	return nil
}
