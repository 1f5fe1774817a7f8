package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// A request body is sent as net/http sends it: at once, as the caller's
// reader produces it, never read ahead. What happens after a 401 depends
// on the body, as in net/http's rewindBody:
//
//   - no body, or GetBody: the retry gets req.GetBody();
//   - otherwise the body goes through a bodyTracker, which counts what the
//     base transport read and keeps a copy of at most WithReplayBuffer
//     bytes of it. A body that was not read at all is replayed as it is; one
//     whose bytes read so far all fit in the copy is replayed from the copy
//     followed by the rest of the caller's reader; beyond that the request
//     fails with ErrBodyNotReplayable.

// errStaleBody is what the base transport reads from an attempt that a
// later one replaced; that attempt's connection is being abandoned.
var errStaleBody = errors.New("auth: request body handed to a newer attempt")

// bodyTracker shares one caller body among the attempts of an exchange.
type bodyTracker struct {
	rc    io.ReadCloser
	limit int64

	// readMu serializes reads of rc: an abandoned attempt may still be
	// blocked in one when the next attempt starts, and what that read
	// returns must be recorded before the next attempt goes on.
	readMu sync.Mutex

	mu       sync.Mutex // guards the fields below
	buf      []byte     // the first bytes read from rc, while they fit
	n        int64      // bytes read from rc in all
	overflow bool       // n > len(buf): the copy is incomplete
	tee      bool       // keep copying (false once no replay can follow)
	err      error      // what rc's last read returned, io.EOF at the end
	gen      int        // the current attempt; older ones get errStaleBody
	open     bool       // the current attempt's body has not been closed
	done     bool       // the exchange ended: no attempt will follow
	closed   bool       // rc was closed
}

func newBodyTracker(rc io.ReadCloser, limit int) *bodyTracker {
	return &bodyTracker{rc: rc, limit: int64(limit), tee: true}
}

// attempt returns the body for the next send. It replays what was read
// so far from the copy; callers check replayable first.
func (b *bodyTracker) attempt() io.ReadCloser {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	b.open = true
	return &attemptBody{b: b, gen: b.gen}
}

// replayable reports whether a new attempt can send the whole body: none
// of it was read, or all that was read is in the copy.
func (b *bodyTracker) replayable() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.overflow
}

// read reports how many bytes have been read from the caller's body.
func (b *bodyTracker) read() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// finish says that no attempt will follow: copying stops, and the
// caller's body is closed once the last attempt's body is.
func (b *bodyTracker) finish() {
	b.mu.Lock()
	b.done, b.tee = true, false
	closeNow := !b.open
	b.mu.Unlock()
	if closeNow {
		b.closeCaller()
	}
}

func (b *bodyTracker) closeCaller() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	_ = b.rc.Close()
}

// attemptBody is the body one send reads: the replayed copy first, then
// the caller's reader from where the last read stopped.
type attemptBody struct {
	b   *bodyTracker
	gen int
	pos int64
}

func (a *attemptBody) Read(p []byte) (int, error) {
	b := a.b
	b.readMu.Lock()
	defer b.readMu.Unlock()
	b.mu.Lock()
	switch {
	case a.gen != b.gen:
		b.mu.Unlock()
		return 0, errStaleBody
	case a.pos < int64(len(b.buf)):
		n := copy(p, b.buf[a.pos:])
		a.pos += int64(n)
		b.mu.Unlock()
		return n, nil
	case a.pos < b.n:
		// Read by an earlier attempt and not kept: attempt is only
		// called when replayable, so this is a read of an abandoned
		// attempt that raced past the check.
		b.mu.Unlock()
		return 0, ErrBodyNotReplayable
	case b.err != nil:
		err := b.err
		b.mu.Unlock()
		return 0, err
	}
	b.mu.Unlock()

	n, err := b.rc.Read(p)

	b.mu.Lock()
	defer b.mu.Unlock()
	if n > 0 {
		if b.tee && !b.overflow && int64(len(b.buf)+n) <= b.limit {
			b.buf = append(b.buf, p[:n]...)
		} else if b.tee {
			b.overflow, b.buf = true, nil
		}
		b.n += int64(n)
		a.pos += int64(n)
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// Close ends this attempt's use of the body. The caller's body stays open
// while another attempt may follow, and is closed with the last one.
func (a *attemptBody) Close() error {
	b := a.b
	b.mu.Lock()
	if a.gen != b.gen || !b.open {
		b.mu.Unlock()
		return nil
	}
	b.open = false
	closeNow := b.done
	b.mu.Unlock()
	if closeNow {
		b.closeCaller()
	}
	return nil
}

// requestBody sets up the exchange's body handling and returns the body
// of the first send.
func (x *exchange) requestBody() io.ReadCloser {
	req := x.req
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		x.getBody = func() (io.ReadCloser, error) { return req.Body, nil }
		return req.Body
	case req.GetBody != nil:
		x.getBody = req.GetBody
		return req.Body
	}
	x.tracker = newBodyTracker(req.Body, x.t.cfg.replayBuffer)
	return x.tracker.attempt()
}

// replayBody returns the body for a send after a 401, or an error naming
// the fix when the body cannot be sent again.
func (x *exchange) replayBody() (io.ReadCloser, error) {
	if x.tracker == nil {
		body, err := x.getBody()
		if err != nil {
			return nil, fmt.Errorf("auth: rewinding the request body: %w", err)
		}
		return body, nil
	}
	if !x.tracker.replayable() {
		return nil, fmt.Errorf("%w (%s %s): %d bytes of it were sent before the server asked to authenticate, "+
			"more than the replay buffer holds (%d bytes); give the request a GetBody (http.NewRequest does for "+
			"*bytes.Buffer, *bytes.Reader and *strings.Reader bodies), or raise auth.WithReplayBuffer, "+
			"or send the token up front (auth.WithPreemptive)",
			ErrBodyNotReplayable, x.req.Method, redactedURL(x.req), x.tracker.read(), x.t.cfg.replayBuffer)
	}
	return x.tracker.attempt(), nil
}

// finishBody lets the caller's body be closed once the base transport is
// done with the last send.
func (x *exchange) finishBody() {
	if x.tracker != nil {
		x.tracker.finish()
	}
}
