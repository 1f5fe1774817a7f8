package credentials

import (
	"context"
	"errors"
	"sync"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// flight lets one goroutine per key do a KDC exchange while the others
// asking for the same key wait for its result, so a burst of requests for
// one SPN costs one TGS request. Unlike x/sync/singleflight it runs the
// work in the caller's goroutine (no background goroutine outlives a
// call), lets each waiter give up when its own context ends, and retries
// when the leader's context, not the KDC, ended the work.
type flight struct {
	mu    sync.Mutex // guards calls
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	cred *kdc.Credential
	err  error
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (f *flight) do(ctx context.Context, key string, fn func(context.Context) (*kdc.Credential, error)) (*kdc.Credential, error) {
	for {
		f.mu.Lock()
		if c, ok := f.calls[key]; ok {
			f.mu.Unlock()
			select {
			case <-c.done:
				if c.err != nil && isContextErr(c.err) && ctx.Err() == nil {
					continue // the leader gave up, not the KDC: try ourselves
				}
				return c.cred, c.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if f.calls == nil {
			f.calls = make(map[string]*flightCall)
		}
		c := &flightCall{done: make(chan struct{})}
		f.calls[key] = c
		f.mu.Unlock()
		return f.run(ctx, key, c, fn)
	}
}

func (f *flight) run(ctx context.Context, key string, c *flightCall, fn func(context.Context) (*kdc.Credential, error)) (*kdc.Credential, error) {
	defer func() {
		// Even if fn panics, waiters must be released.
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.err = errors.New("credentials: ticket request did not complete")
	c.cred, c.err = fn(ctx)
	return c.cred, c.err
}
