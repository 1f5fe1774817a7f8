package auth

import (
	"context"
	"net"
	"net/http/httptrace"
	"sync"
)

// maxTrackedConns bounds the connection bookkeeping. Entries hold the
// net.Conn itself so that a closed connection's address can never be
// mistaken for a new one; the least recently used are dropped first, which
// at worst makes an old connection authenticate again. (Weak pointers
// cannot be used: a net.Conn is an interface, and the transport does not
// know the concrete type behind it.)
const maxTrackedConns = 4096

// connTracker remembers which keep-alive connections a server has mutually
// authenticated, as IIS and HTTP.sys authenticate a connection once and
// then answer later requests on it with neither challenge nor token.
//
// A connection is counted per origin: a connection to a plain-http proxy
// carries requests to many servers, and one server authenticating it says
// nothing about the others. (A proxy's own authentication is never
// counted here: every request or tunnel through it carries its token.)
type connTracker struct {
	conns *lru[connKey, struct{}]
}

type connKey struct {
	conn   net.Conn
	origin string
}

func newConnTracker() *connTracker {
	return &connTracker{conns: newLRU[connKey, struct{}](maxTrackedConns)}
}

func (c *connTracker) authenticated(conn net.Conn, origin string) bool {
	if conn == nil {
		return false
	}
	_, ok := c.conns.get(connKey{conn, origin})
	return ok
}

func (c *connTracker) markAuthenticated(conn net.Conn, origin string) {
	if conn != nil {
		c.conns.put(connKey{conn, origin}, struct{}{})
	}
}

// forget drops a connection, used when a fresh (not reused) connection
// shows up: whatever was recorded under it belongs to the past.
func (c *connTracker) forget(conn net.Conn, origin string) { c.conns.remove(connKey{conn, origin}) }

// connProbe records the connection one round trip used.
type connProbe struct {
	mu   sync.Mutex
	conn net.Conn
}

func (p *connProbe) get() net.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conn
}

// withConnProbe adds a client trace that records the connection, composed
// with any trace the caller already put in ctx.
func (c *connTracker) withConnProbe(ctx context.Context, origin string) (context.Context, *connProbe) {
	p := &connProbe{}
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if !info.Reused {
				c.forget(info.Conn, origin)
			}
			p.mu.Lock()
			p.conn = info.Conn
			p.mu.Unlock()
		},
	}
	return httptrace.WithClientTrace(ctx, trace), p
}
