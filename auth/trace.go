package auth

import (
	"context"
	"net"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// ClientTrace holds hooks into the authentication of the requests whose
// context carries it (see [WithClientTrace]), as [net/http/httptrace]'s
// ClientTrace does into their connections. Hooks are called in the
// goroutine of RoundTrip, before it returns; nil hooks are skipped.
type ClientTrace struct {
	// Authenticated is called when the transport has established a
	// security context with the server for the request: the server's
	// reply token verified or, when mutual authentication is not asked
	// for ([MutualDisabled]), a response other than 401 came to the token.
	// It is not called for a response that needed no token, such as one
	// on a connection the server had already authenticated.
	Authenticated func(Authenticated)
}

// Authenticated describes a security context [ClientTrace.Authenticated]
// reports.
type Authenticated struct {
	// Scheme is the HTTP authentication scheme the tokens went under.
	Scheme Scheme
	// Context is the established security context: its session keys and
	// sequence numbers protect messages with Wrap and Unwrap, as WinRM's
	// message encryption (module wsman) does.
	Context *gss.SecurityContext
	// Protector seals and opens the context's messages. It is always
	// set; Context is nil when the keys are out of reach, as for the
	// logged-on user's SSPI context on Windows, whose messages Windows
	// seals (EncryptMessage, DecryptMessage).
	Protector gss.Protector
	// Conn is the connection the server's response came on, which is the
	// one a server that authenticates connections (IIS, HTTP.sys,
	// WinRM) has bound the context to. It is nil when the base transport
	// does not report connections through net/http/httptrace, and for
	// HTTP/2, whose connections are shared by many requests.
	Conn net.Conn
}

type clientTraceKey struct{}

// WithClientTrace returns a context carrying trace, to be used as a
// request's context (http.NewRequestWithContext). A trace already in ctx
// is replaced.
func WithClientTrace(ctx context.Context, trace *ClientTrace) context.Context {
	return context.WithValue(ctx, clientTraceKey{}, trace)
}

// ContextClientTrace returns the trace in ctx, or nil.
func ContextClientTrace(ctx context.Context) *ClientTrace {
	trace, _ := ctx.Value(clientTraceKey{}).(*ClientTrace)
	return trace
}
