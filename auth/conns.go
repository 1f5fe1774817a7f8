package auth

import (
	"container/list"
	"context"
	"net"
	"net/http/httptrace"
	"sync"
)

// maxTrackedConns bounds the connection bookkeeping. Entries hold the
// net.Conn itself so that a closed connection's address can never be
// mistaken for a new one; the oldest are dropped first, which at worst makes
// an old connection authenticate again.
const maxTrackedConns = 4096

// connTracker remembers which keep-alive connections a server has mutually
// authenticated, as IIS and HTTP.sys authenticate a connection once and
// then answer later requests on it with neither challenge nor token.
type connTracker struct {
	mu    sync.Mutex // guards order and index
	order *list.List // of net.Conn, most recently used at the front
	index map[net.Conn]*list.Element
}

func newConnTracker() *connTracker {
	return &connTracker{order: list.New(), index: make(map[net.Conn]*list.Element)}
}

func (c *connTracker) authenticated(conn net.Conn) bool {
	if conn == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.index[conn]
	if ok {
		c.order.MoveToFront(e)
	}
	return ok
}

func (c *connTracker) markAuthenticated(conn net.Conn) {
	if conn == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[conn]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.index[conn] = c.order.PushFront(conn)
	if c.order.Len() > maxTrackedConns {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.index, oldest.Value.(net.Conn))
	}
}

// forget drops a connection, used when a fresh (not reused) connection
// shows up: whatever was recorded under it belongs to the past.
func (c *connTracker) forget(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[conn]; ok {
		c.order.Remove(e)
		delete(c.index, conn)
	}
}

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
func (c *connTracker) withConnProbe(ctx context.Context) (context.Context, *connProbe) {
	p := &connProbe{}
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if !info.Reused {
				c.forget(info.Conn)
			}
			p.mu.Lock()
			p.conn = info.Conn
			p.mu.Unlock()
		},
	}
	return httptrace.WithClientTrace(ctx, trace), p
}
