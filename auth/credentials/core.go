package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

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
	client() (types.PrincipalName, string, error)
	// tgt returns a usable TGT for the client's realm.
	tgt(ctx context.Context) (*kdc.Credential, error)
	// stored returns a ticket for the service principal key held outside
	// the memory cache (in a credential cache file), or nil.
	stored(key string) *kdc.Credential
}

// core is the machinery shared by all sources: the KDC client, the
// in-memory ticket cache, single-flight and the refresh policy.
type core struct {
	cfg    *krb5conf.Config
	kdc    *kdc.Client
	opts   options
	log    *slog.Logger
	flight flight

	mu      sync.Mutex // guards tickets, dropped and gen
	tickets map[string]*kdc.Credential
	dropped map[string]drop // by ticket key: the last ticket a server refused
	gen     uint64          // bumped by reset, so work started before is not stored
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
	o := options{refreshBefore: DefaultRefreshBefore, now: time.Now}
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
	tr := o.transport
	if tr == nil {
		tr = &kdc.NetTransport{Config: cfg.Config, AttemptTimeout: o.kdcTimeout, Logger: log}
	}
	c := &core{
		cfg:     cfg,
		kdc:     kdc.New(cfg.Config, kdc.WithTransport(tr), kdc.WithLogger(log)),
		opts:    o,
		log:     log,
		tickets: make(map[string]*kdc.Credential),
		dropped: make(map[string]drop),
	}
	return cfg, c, nil
}

func (c *core) now() time.Time { return c.opts.now() }

// fresh reports whether cred can be handed out without trying to replace
// it: more than max(refreshBefore, lifetime/10) left.
func (c *core) fresh(cred *kdc.Credential) bool {
	if cred == nil {
		return false
	}
	var margin time.Duration
	if !cred.StartTime.IsZero() {
		margin = cred.EndTime.Sub(cred.StartTime) / 10
	}
	if margin < c.opts.refreshBefore {
		margin = c.opts.refreshBefore
	}
	return c.now().Before(cred.EndTime.Add(-margin))
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

// ticketKey resolves spn to the principal it names and the key of its
// tickets: the realm from domain_realm, else the client's own realm
// (whose KDC may refer us on), better than default_realm for a cache
// from elsewhere.
func (c *core) ticketKey(id identity, spn string) (name types.PrincipalName, realm, key, client string, err error) {
	name, realm, err = ticket.ParseSPN(spn)
	if err != nil {
		return name, "", "", "", withSentinel(ErrMalformed, "", err)
	}
	cname, crealm, err := id.client()
	if err != nil {
		return name, "", "", "", err
	}
	client = ticket.PrincipalString(cname, crealm)
	if realm == "" {
		if realm = c.cfg.DomainRealm(name.NameString[len(name.NameString)-1]); realm == "" {
			realm = crealm
		}
	}
	return name, realm, ticket.PrincipalString(name, realm), client, nil
}

// dropTicket forgets tkt, a ticket for spn a server refused, so that the
// next request for spn gets another from the KDC. It does nothing when
// the ticket held for spn is already another one, and keeps tkt when a
// ticket for spn was dropped less than RefusedHoldOff ago: the service
// refused a fresh ticket too.
func (c *core) dropTicket(ctx context.Context, id identity, spn string, tkt *ticket.Ticket) {
	if tkt == nil {
		return
	}
	_, _, key, client, err := c.ticketKey(id, spn)
	if err != nil {
		return
	}
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
	c.dropped[key] = drop{at: c.now(), cipher: bytes.Clone(tkt.Ticket.EncPart.Cipher)}
	c.log.LogAttrs(ctx, slog.LevelInfo, "credentials: dropped a service ticket the service refused",
		slog.String("client", client), slog.String("spn", key), slog.Int("kvno", tkt.Ticket.EncPart.KVNO))
}

func (c *core) serviceTicket(ctx context.Context, id identity, spn string) (*ticket.Ticket, error) {
	const op = "service ticket"
	name, realm, key, client, err := c.ticketKey(id, spn)
	if err != nil {
		return nil, &Error{Op: op, SPN: spn, Err: err}
	}
	if t, _ := c.lookup(key); c.usable(key, t) {
		return toTicket(t), nil
	}
	if t := id.stored(key); c.usable(key, t) {
		return toTicket(t), nil
	}
	cred, err := c.flight.do(ctx, key, func(ctx context.Context) (*kdc.Credential, error) {
		old, gen := c.lookup(key)
		if c.usable(key, old) {
			return old, nil
		}
		if c.refused(key, old) {
			old = nil
		}
		// kinit or kvno may have put a fresh ticket in the cache file.
		if s := id.stored(key); c.usable(key, s) {
			return s, nil
		} else if !c.valid(old) && c.valid(s) && !c.refused(key, s) {
			old = s
		}
		tgt, err := id.tgt(ctx)
		if err == nil && c.valid(old) && !tgt.EndTime.After(old.EndTime) {
			// A new ticket could not outlive the one we have.
			return old, nil
		}
		if err == nil {
			var cred *kdc.Credential
			if cred, err = c.kdc.ServiceTicket(ctx, tgt, name, realm, nil); err == nil {
				c.store(key, cred, gen)
				c.log.LogAttrs(ctx, slog.LevelDebug, "credentials: service ticket from KDC",
					slog.String("client", client), slog.String("spn", key), slog.Time("end", cred.EndTime))
				return cred, nil
			}
		}
		if c.valid(old) {
			c.log.LogAttrs(ctx, slog.LevelDebug, "credentials: refresh failed, using the current ticket until it expires",
				slog.String("client", client), slog.String("spn", key), slog.Any("error", err))
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
		return nil, &Error{Op: "TGT", Principal: clientName(id), Err: err}
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
		return nil, &Error{Op: op, Principal: clientName(id), Err: err}
	}
	return toTicket(cred), nil
}

func clientName(id identity) string {
	n, r, err := id.client()
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
