package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// Flight keys that cannot clash with a principal name (which has no NUL).
const (
	tgtKey       = "\x00tgt"
	forwardedKey = "\x00forwarded"
)

// identity is what differs between sources: who the client is and where
// its TGT comes from. Errors it returns are causes; core wraps them in
// *Error.
type identity interface {
	// client returns the client principal, loading what it must.
	client(ctx context.Context) (types.PrincipalName, string, error)
	// tgt returns a usable TGT for the client's realm.
	tgt(ctx context.Context) (*kdc.Credential, error)
	// stored returns a ticket for the service principal key held outside
	// the memory cache (in a credential cache), or nil.
	stored(ctx context.Context, key string) *kdc.Credential
}

// cacheWriter is an identity whose TGT comes from a credential cache:
// service tickets got with it are stored back there, under server (the
// name MIT's library would store them under), as MIT does. Anything that
// obtains a ticket with the cache's TGT (a TGS exchange, a renewal) calls
// it; failures are the identity's to log.
type cacheWriter interface {
	writeBack(ctx context.Context, server ccache.Principal, cred *kdc.Credential)
}

// core is the machinery shared by all sources: the KDC client, the
// in-memory ticket cache, single-flight and the refresh policy.
type core struct {
	cfg    *krb5conf.Config
	kdc    *kdc.Client
	opts   options
	log    *slog.Logger
	flight flight
	counts counters

	mu      sync.Mutex // guards tickets, dropped, retries and gen
	tickets map[string]*kdc.Credential
	dropped map[string]drop        // by ticket key: the last ticket a server refused
	retries map[string]*retryState // by flight key: recent failures
	gen     uint64                 // bumped by reset, so work started before is not stored
}

// drop records a service ticket a server refused (see DropTicket).
type drop struct {
	at     time.Time
	cipher []byte // the ticket's encrypted part, which tells tickets apart
}

// RefusedHoldOff is how long after dropping a refused service ticket a
// source keeps the next one it got for that service even if the server
// refuses it too. A key rotation costs one refused ticket; a server that
// refuses every ticket (a wrong keytab, a clock far off) would otherwise
// cost one KDC request per HTTP request. So a service refusing everything
// costs one service-ticket request per RefusedHoldOff, and a second key
// rotation within that time costs failed requests until it has passed.
const RefusedHoldOff = time.Minute

func newCore(cfg *krb5conf.Config, opts []Option) (*krb5conf.Config, *core, error) {
	o := options{refreshAt: DefaultRefreshFraction, now: time.Now, writeBack: true}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, nil, &Error{Op: "configure source", Err: err}
		}
	}
	if cfg == nil {
		var err error
		if cfg, err = krb5conf.Load(); err != nil {
			if errors.Is(err, krb5conf.ErrMalformed) {
				err = withSentinel(ErrMalformed, "", err)
			}
			return nil, nil, &Error{Op: "load krb5.conf", Err: err}
		}
	}
	log := o.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dns := &kdc.DNS{}
	if o.resolver != nil {
		dns.Dial = o.resolver.Dial
	}
	tr := o.transport
	if tr == nil {
		tr = &kdc.NetTransport{Config: cfg.Config, Settings: kdcSettings(cfg), DNS: dns, AttemptTimeout: o.kdcTimeout, Logger: log}
	}
	c := &core{
		cfg: cfg,
		kdc: kdc.New(cfg.Config, kdc.WithTransport(tr), kdc.WithLogger(log),
			kdc.WithCapaths(cfg.CapathsFor), kdc.WithFallbackRealm(fallbackRealm(cfg, dns))),
		opts:    o,
		log:     log,
		tickets: make(map[string]*kdc.Credential),
		dropped: make(map[string]drop),
		retries: make(map[string]*retryState),
	}
	return cfg, c, nil
}

func (c *core) now() time.Time { return c.opts.now() }

// fresh reports whether cred can be handed out without trying to replace
// it: it has not reached its refresh point (see WithRefreshFraction).
func (c *core) fresh(cred *kdc.Credential) bool {
	return cred != nil && c.now().Before(c.refreshAt(cred))
}

// valid reports whether cred has not expired yet.
func (c *core) valid(cred *kdc.Credential) bool {
	return cred != nil && c.now().Before(cred.EndTime)
}

func (c *core) lookup(key string) (*kdc.Credential, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tickets[key], c.gen
}

func (c *core) store(key string, cred *kdc.Credential, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.tickets[key] = cred
	}
}

// reset forgets every ticket: the client identity changed.
func (c *core) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickets = make(map[string]*kdc.Credential)
	c.dropped = make(map[string]drop)
	c.retries = make(map[string]*retryState)
	c.gen++
}

// refused reports whether cred is the ticket last dropped for key.
func (c *core) refused(key string, cred *kdc.Credential) bool {
	if cred == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.dropped[key]
	return ok && bytes.Equal(d.cipher, cred.Ticket.EncPart.Cipher)
}

// usable reports whether cred may be handed out for key without asking
// the KDC: fresh and not refused.
func (c *core) usable(key string, cred *kdc.Credential) bool {
	return c.fresh(cred) && !c.refused(key, cred)
}

// spnTarget is a service principal resolved: where to ask for its
// tickets, the key they are held under, and the name a credential cache
// stores them under.
type spnTarget struct {
	name types.PrincipalName
	// realm is the SPN's, else [domain_realm]'s; without an entry it
	// stays empty: MIT's referral realm, the client's KDC is asked and its
	// referrals followed (then the fallback realm).
	realm string
	key   string // name@realm
	// cacheRealm is the realm MIT would ask for and so store the ticket
	// under: the SPN's, domain_realm's, or for a host without a mapping
	// (IP addresses never have one) the empty referral realm.
	cacheRealm string
}

// resolveSPN resolves spn. It does no I/O.
func (c *core) resolveSPN(spn string) (spnTarget, error) {
	name, realm, err := ticket.ParseSPN(spn)
	if err != nil {
		return spnTarget{}, withSentinel(ErrMalformed, "", err)
	}
	t := spnTarget{name: name, realm: realm, cacheRealm: realm}
	if realm == "" {
		host := name.NameString[len(name.NameString)-1]
		t.realm = c.cfg.DomainRealm(host)
		if net.ParseIP(host) == nil {
			t.cacheRealm = t.realm
		}
	}
	t.key = ticket.PrincipalString(name, t.realm)
	return t, nil
}

// dropTicket forgets tkt, a ticket for spn a server refused, so that the
// next request for spn gets another from the KDC. It does nothing when
// the ticket held for spn is already another one, and keeps tkt when a
// ticket for spn was dropped less than RefusedHoldOff ago: the service
// refused a fresh ticket too.
func (c *core) dropTicket(ctx context.Context, spn string, tkt *ticket.Ticket) {
	if tkt == nil {
		return
	}
	// The key does not depend on the client, and the ticket names it for
	// the log: no identity lookup (which may mean I/O to a cache daemon).
	target, err := c.resolveSPN(spn)
	if err != nil {
		return
	}
	key, client := target.key, ticket.PrincipalString(tkt.Client, tkt.ClientRealm)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.tickets[key]; cur != nil && !bytes.Equal(cur.Ticket.EncPart.Cipher, tkt.Ticket.EncPart.Cipher) {
		return // replaced since: the caller will get the new one
	}
	if d, ok := c.dropped[key]; ok && c.now().Sub(d.at) < RefusedHoldOff {
		if !bytes.Equal(d.cipher, tkt.Ticket.EncPart.Cipher) {
			c.log.LogAttrs(ctx, slog.LevelWarn, "credentials: a fresh service ticket was refused too; keeping it for now",
				slog.String("client", client), slog.String("spn", key), slog.Duration("hold_off", RefusedHoldOff))
		}
		return
	}
	delete(c.tickets, key)
	delete(c.retries, key) // a new reason to ask: no waiting for an earlier failure
	c.dropped[key] = drop{at: c.now(), cipher: bytes.Clone(tkt.Ticket.EncPart.Cipher)}
	c.log.LogAttrs(ctx, slog.LevelInfo, "credentials: dropped a service ticket the service refused",
		slog.String("client", client), slog.String("spn", key), slog.Int("kvno", tkt.Ticket.EncPart.KVNO))
}

func (c *core) serviceTicket(ctx context.Context, id identity, spn string) (*ticket.Ticket, error) {
	const op = "service ticket"
	cname, crealm, err := id.client(ctx)
	if err != nil {
		return nil, &Error{Op: op, SPN: spn, Err: err}
	}
	client := ticket.PrincipalString(cname, crealm)
	target, err := c.resolveSPN(spn)
	if err != nil {
		return nil, &Error{Op: op, SPN: spn, Err: err}
	}
	key := target.key
	// A cache may hold the ticket under the referral realm (MIT's kvno
	// after a referral) or, written by others, under the client's. A
	// ticket this source dropped may still be there (whatever the cache's
	// type): usable skips it.
	stored := func() *kdc.Credential {
		t := id.stored(ctx, key)
		if target.realm == "" && !c.usable(key, t) {
			if h := id.stored(ctx, ticket.PrincipalString(target.name, crealm)); c.valid(h) && !c.refused(key, h) {
				return h
			}
		}
		return t
	}
	if t, _ := c.lookup(key); c.usable(key, t) {
		c.counts.cacheHits.Add(1)
		return toTicket(t), nil
	}
	if t := stored(); c.usable(key, t) {
		c.counts.cacheHits.Add(1)
		return toTicket(t), nil
	}
	cred, err := c.flight.do(ctx, key, func(ctx context.Context) (*kdc.Credential, error) {
		old, gen := c.lookup(key)
		if c.usable(key, old) {
			c.counts.cacheHits.Add(1)
			return old, nil
		}
		if c.refused(key, old) {
			old = nil
		}
		// kinit or kvno may have put a fresh ticket in the cache file.
		if s := stored(); c.usable(key, s) {
			c.counts.cacheHits.Add(1)
			return s, nil
		} else if !c.valid(old) && c.valid(s) && !c.refused(key, s) {
			old = s
		}
		if err := c.backingOff(key); err != nil {
			if c.valid(old) {
				c.counts.cacheHits.Add(1)
				return old, nil
			}
			return nil, err
		}
		tgt, err := id.tgt(ctx)
		if err == nil && c.valid(old) && !tgt.EndTime.After(old.EndTime) {
			// A new ticket could not outlive the one we have.
			c.counts.cacheHits.Add(1)
			return old, nil
		}
		if err == nil {
			var cred *kdc.Credential
			if cred, err = c.kdc.ServiceTicket(ctx, tgt, target.name, target.realm, nil); err == nil {
				c.succeeded(key)
				c.counts.serviceTickets.Add(1)
				if c.valid(old) {
					c.counts.refreshes.Add(1)
				}
				c.store(key, cred, gen)
				// Only a ticket just issued is written back: never one a
				// server refused, which is never handed out again.
				if w, ok := id.(cacheWriter); ok {
					w.writeBack(ctx, ccache.Principal{NameType: target.name.NameType, Components: target.name.NameString, Realm: target.cacheRealm}, cred)
				}
				c.log.LogAttrs(ctx, slog.LevelDebug, "credentials: service ticket from KDC",
					slog.String("client", client), slog.String("spn", key), slog.Time("end", cred.EndTime))
				return cred, nil
			}
			// Only the TGS exchange is backed off here: a login is, by the
			// source, and a cache without a valid TGT is no KDC failure
			// (the user's next kinit must be used at once).
			if !c.valid(old) {
				old = nil
			}
			c.failed(key, err, old)
		}
		if !c.valid(old) {
			old = nil
		}
		if old != nil {
			c.counts.refreshFailures.Add(1)
			c.log.LogAttrs(ctx, slog.LevelDebug, "credentials: refresh failed, using the current ticket until it expires",
				slog.String("client", client), slog.String("spn", key), slog.Time("end", old.EndTime), slog.Any("error", err))
			return old, nil
		}
		return nil, err
	})
	if err != nil {
		return nil, &Error{Op: op, Principal: client, SPN: spn, Err: err}
	}
	return toTicket(cred), nil
}

func (c *core) tgtTicket(ctx context.Context, id identity) (*ticket.Ticket, error) {
	tgt, err := id.tgt(ctx)
	if err != nil {
		return nil, &Error{Op: "TGT", Principal: clientName(ctx, id), Err: err}
	}
	return toTicket(tgt), nil
}

// forwardedTGT asks the KDC for a forwarded copy of the TGT, for a
// KRB-CRED in a delegating authenticator. It is cached like a service
// ticket.
func (c *core) forwardedTGT(ctx context.Context, id identity) (*ticket.Ticket, error) {
	const op = "forwarded TGT"
	cred, err := c.flight.do(ctx, forwardedKey, func(ctx context.Context) (*kdc.Credential, error) {
		old, gen := c.lookup(forwardedKey)
		if c.fresh(old) {
			return old, nil
		}
		tgt, err := id.tgt(ctx)
		if err != nil {
			return nil, err
		}
		if !types.IsFlagSet(&tgt.Flags, flags.Forwardable) {
			return nil, ErrNotForwardable
		}
		cred, err := c.kdc.TGS(ctx, kdc.TGSRequest{
			TGT:     tgt,
			Server:  kdc.TGTName(tgt.TGTRealm()),
			Options: []int{flags.Forwarded},
		})
		if err != nil {
			return nil, err
		}
		c.store(forwardedKey, cred, gen)
		return cred, nil
	})
	if err != nil {
		return nil, &Error{Op: op, Principal: clientName(ctx, id), Err: err}
	}
	return toTicket(cred), nil
}

func clientName(ctx context.Context, id identity) string {
	n, r, err := id.client(ctx)
	if err != nil {
		return ""
	}
	return ticket.PrincipalString(n, r)
}

func toTicket(c *kdc.Credential) *ticket.Ticket {
	return &ticket.Ticket{
		Ticket:      c.Ticket,
		SessionKey:  c.SessionKey,
		Client:      c.Client,
		ClientRealm: c.ClientRealm,
		Flags:       c.Flags,
		AuthTime:    c.AuthTime,
		StartTime:   c.StartTime,
		EndTime:     c.EndTime,
		RenewTill:   c.RenewTill,
	}
}

func expiredError(who string, end time.Time) error {
	return withSentinel(ErrExpired, fmt.Sprintf("TGT of %s expired at %s; run kinit again", who, end.Local().Format(time.DateTime)), nil)
}
