package wsman

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
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

// An Option configures a [Client].
type Option func(*config) error

type config struct {
	transport        http.RoundTripper
	base             *http.Transport
	authSet          bool // WithAuth was given
	authOpts         []auth.Option
	encryption       Encryption
	operationTimeout time.Duration
	maxEnvelopeSize  int
	locale           string
	logger           *slog.Logger
	newID            func() string
}

func defaultConfig() config {
	return config{
		operationTimeout: DefaultOperationTimeout,
		maxEnvelopeSize:  DefaultMaxEnvelopeSize,
		locale:           DefaultLocale,
	}
}

// WithAuth configures the Kerberos transport the client authenticates
// with: credentials, service principal, mutual authentication,
// delegation, the "Kerberos" scheme (auth.WithScheme; encrypted messages
// then use its protocol string) and so on, as auth options. The client
// adds, before them, auth.WithPreemptive(auth.PreemptiveAfterChallenge)
// for plain SOAP (a token up front once the host has challenged, so
// faults come with a verified token under MutualRequired) and
// auth.WithPreemptive(auth.PreemptiveAlways) for the setup of encrypted
// sessions, whose empty POST carries the token as pywinrm's and Windows'
// do; and auth.WithLogger with [WithLogger].
func WithAuth(opts ...auth.Option) Option {
	return func(c *config) error {
		c.authSet = true
		c.authOpts = append(c.authOpts, opts...)
		return nil
	}
}

// WithBaseTransport sets the HTTP transport under the client's Kerberos
// transport: TLS configuration, proxy, dialer, timeouts, response header
// limits. It is cloned, and restricted to HTTP/1.1 (Windows
// authentication does not work over HTTP/2). Each encrypted session gets
// its own clone, limited to the one connection its Kerberos context is
// bound to. The default is a clone of [http.DefaultTransport].
func WithBaseTransport(base *http.Transport) Option {
	return func(c *config) error {
		if base == nil {
			return errors.New("wsman: WithBaseTransport: nil transport")
		}
		c.base = base.Clone()
		return nil
	}
}

// WithTransport sends the messages through rt as plain SOAP, leaving
// authentication to it: an [*auth.Transport] of your own, a transport with
// another authentication, a test double. Message encryption cannot work
// through it (the Kerberos context must stay with the client), so the
// endpoint must be https or the encryption [EncryptNever]. It excludes
// [WithAuth] and [WithBaseTransport], which configure the transport the
// client builds.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("wsman: WithTransport: nil transport")
		}
		c.transport = rt
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
	if c.transport != nil && (c.authSet || c.base != nil) {
		return errors.New("wsman: WithTransport excludes WithAuth and WithBaseTransport")
	}
	return nil
}
