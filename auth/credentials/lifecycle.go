package credentials

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// Stats counts what a source asked of the KDC and what it answered from
// memory or its credential cache, since the source was made. Operators
// read it to see the load a client puts on its KDC; [Source]s of this
// package return it from their Stats method. The counts only grow.
type Stats struct {
	// Logins: AS exchanges that gave a TGT (password and keytab sources).
	Logins uint64
	// LoginFailures: AS exchanges that failed (KDC unreachable, wrong
	// key, ...). A context that ended is not counted.
	LoginFailures uint64
	// Renewals: TGTs renewed (a TGS exchange with the RENEW option).
	Renewals uint64
	// ServiceTickets: service tickets obtained from the KDC.
	ServiceTickets uint64
	// CacheHits: ServiceTicket calls answered with a ticket held in
	// memory or found in the credential cache, without the KDC.
	CacheHits uint64
	// Refreshes: tickets (TGTs and service tickets) replaced while still
	// valid because they had passed their refresh point.
	Refreshes uint64
	// RefreshFailures: attempts to replace a still-valid ticket that
	// failed; the ticket stayed in use.
	RefreshFailures uint64
}

// StatsSource is a Source that counts its KDC traffic. All sources of
// this package implement it; auth.Transport.CredentialStats reads it.
type StatsSource interface {
	Source
	Stats() Stats
}

type counters struct {
	logins, loginFailures, renewals, serviceTickets, cacheHits, refreshes, refreshFailures atomic.Uint64
}

// Stats returns the source's counters.
func (c *core) Stats() Stats {
	n := &c.counts
	return Stats{
		Logins:          n.logins.Load(),
		LoginFailures:   n.loginFailures.Load(),
		Renewals:        n.renewals.Load(),
		ServiceTickets:  n.serviceTickets.Load(),
		CacheHits:       n.cacheHits.Load(),
		Refreshes:       n.refreshes.Load(),
		RefreshFailures: n.refreshFailures.Load(),
	}
}

// Backoff after failed KDC exchanges: the first retry after minBackoff,
// each further one after twice the wait before, at most maxBackoff. A
// ticket still valid caps the wait at half its remaining time, so that
// retries go on while there is something to lose.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// retryState is the failure record of one flight key (a service ticket,
// the TGT).
type retryState struct {
	failures int
	next     time.Time // no KDC exchange before then
	err      error     // the last failure
}

// BackoffError is returned instead of asking the KDC again while a
// source waits after failed attempts: Err is the last failure (it matches
// what that matched, ErrKDCUnreachable for example) and Until when the
// next attempt may be made.
type BackoffError struct {
	Err      error
	Failures int
	Until    time.Time
}

func (e *BackoffError) Error() string {
	return fmt.Sprintf("%v (failed %d times; next attempt at %s)", e.Err, e.Failures, e.Until.Local().Format(time.TimeOnly))
}

func (e *BackoffError) Unwrap() error { return e.Err }

// backingOff returns an error when key failed recently and may not be
// asked for again yet.
func (c *core) backingOff(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.retries[key]
	if !ok || !c.now().Before(r.next) {
		return nil
	}
	return &BackoffError{Err: r.err, Failures: r.failures, Until: r.next}
}

// failed records a failed exchange for key. held is the ticket still in
// use (nil for none). A context that ended says nothing about the KDC and
// is not recorded.
func (c *core) failed(key string, err error, held *kdc.Credential) {
	if isContextErr(err) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.retries[key]
	if r == nil {
		r = &retryState{}
		c.retries[key] = r
	}
	r.failures++
	r.err = err
	wait := minBackoff << min(r.failures-1, 10)
	wait = min(wait, maxBackoff)
	now := c.now()
	if held != nil && held.EndTime.After(now) {
		wait = min(wait, held.EndTime.Sub(now)/2)
	}
	r.next = now.Add(wait)
}

// succeeded forgets key's failures.
func (c *core) succeeded(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.retries, key)
}

// refreshAt is when cred should be replaced: after the refresh fraction
// of its lifetime.
func (c *core) refreshAt(cred *kdc.Credential) time.Time {
	start := cred.StartTime
	if start.IsZero() {
		start = cred.AuthTime
	}
	f := c.opts.refreshAt
	if start.IsZero() || !cred.EndTime.After(start) {
		return cred.EndTime
	}
	life := cred.EndTime.Sub(start)
	return start.Add(time.Duration(float64(life) * f))
}

// renewable reports whether a renewal of tgt is worth it: it is
// renewable, and its renew-till is far enough ahead that the renewed
// TGT lives at least half as long as tgt did. (Near renew-till each
// renewal would give a shorter ticket, refreshed sooner; a login then
// costs one exchange instead of several.)
func (c *core) renewable(tgt *kdc.Credential) bool {
	if tgt == nil || !c.valid(tgt) || !types.IsFlagSet(&tgt.Flags, flags.Renewable) || tgt.RenewTill.IsZero() {
		return false
	}
	life := tgt.EndTime.Sub(tgt.StartTime)
	if tgt.StartTime.IsZero() {
		life = tgt.EndTime.Sub(tgt.AuthTime)
	}
	return tgt.RenewTill.After(c.now().Add(life / 2))
}
