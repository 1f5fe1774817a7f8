package auth

import (
	"context"
	"errors"
	"net/http"
)

// Mutual authentication can differ per request or per host, because not
// every server a client talks to can authenticate itself: a Hadoop
// datanode, reached through a redirect that an authenticated namenode
// chose, never does SPNEGO, and a legacy host behind a proxy may strip
// the reply token. The transport's mode ([WithMutualAuthentication],
// [MutualRequired] by default) applies unless a policy function
// ([WithMutualAuthenticationPolicy]) or the request's context
// ([WithMutualAuthenticationFor]) says otherwise; the context wins. The
// mode of a request decides both whether its token asks the server to
// authenticate itself and how the response is checked.

type mutualKey struct{}

// WithMutualAuthenticationFor returns a copy of ctx under which requests
// sent through a [Transport] use mode instead of the transport's own mode
// or policy. It is for code that knows better than the transport's
// configuration what one request can expect, e.g. a client library that
// follows a redirect to a server it has other reasons to trust.
func WithMutualAuthenticationFor(ctx context.Context, mode MutualMode) context.Context {
	return context.WithValue(ctx, mutualKey{}, mode)
}

// WithMutualAuthenticationPolicy makes the mode of each request the one
// policy returns for it, e.g. [MutualOptional] for one host that cannot
// send a reply token and [MutualRequired] for every other. policy gets the
// caller's request, must not modify it, must be safe for concurrent use,
// and must return one of the three modes; an unknown value counts as
// [MutualRequired]. A context set with [WithMutualAuthenticationFor]
// takes precedence.
func WithMutualAuthenticationPolicy(policy func(*http.Request) MutualMode) Option {
	return func(c *config) error {
		if policy == nil {
			return errors.New("auth: WithMutualAuthenticationPolicy: nil policy")
		}
		c.mutualPolicy = policy
		return nil
	}
}

// mutualMode is the mode for req: its context's, else the policy's, else
// the transport's.
func (t *Transport) mutualMode(req *http.Request) MutualMode {
	mode := t.cfg.mutual
	if m, ok := req.Context().Value(mutualKey{}).(MutualMode); ok {
		mode = m
	} else if t.cfg.mutualPolicy != nil {
		mode = t.cfg.mutualPolicy(req)
	}
	if mode < MutualRequired || mode > MutualDisabled {
		return MutualRequired
	}
	return mode
}

// MutuallyAuthenticated reports whether the server that sent resp, a
// response a [Transport] returned, proved its identity: the response
// carried a reply token that verified, or came on a keep-alive connection
// that had been mutually authenticated. It is false for a response that
// passed unverified under [MutualOptional] or [MutualDisabled], for a 401,
// and for a response that did not come from a Transport.
func MutuallyAuthenticated(resp *http.Response) bool {
	return stateOf(resp).authenticated
}

// markAuthenticated records, for [MutuallyAuthenticated], that the
// response of the exchange whose context is ctx authenticated the server.
func markAuthenticated(ctx context.Context) {
	updateState(ctx, func(s *exchangeState) { s.authenticated = true })
}
