package credentials

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/file"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// CCacheSource gets service tickets with the TGT in an MIT credential
// cache: what kinit left in a FILE: cache, a DIR: collection, the KCM
// daemon (KCM:, sssd-kcm), the kernel keyring (KEYRING:) or a MEMORY:
// cache of this process. Service tickets already in the cache are used
// while fresh; new ones are kept in memory and, as MIT's library does,
// written back into the cache the TGT came from (WithWriteBack(false) turns
// that off), so klist lists them and the next process, curl or kvno
// included, finds them there instead of asking the KDC.
//
// The cache is looked at on every call and re-read when it changed, so a
// kinit by the user is picked up without a restart: a file by its size and
// time (a stat, plus reading DIR:'s small primary file), caches without
// those (KCM:, KEYRING:, MEMORY:) at most once a second, and at once when
// a ticket is missing. With WithRenewal(true) the source renews a
// renewable TGT past its refresh point as kinit -R does, and writes it to
// the cache; otherwise, or once it can no longer be renewed, calls fail
// when it has expired, with an error matching ErrExpired, until the cache
// is refreshed.
//
// A CCacheSource is safe for concurrent use.
type CCacheSource struct {
	*core
	name   ccache.Name
	target ccacheTarget
	want   *ccache.Principal // nil: the cache's default principal

	mu sync.Mutex // guards st and renewed, serializes reading the cache
	st *ccState
	// renewed is the TGT this source last renewed (WithRenewal), used
	// while the cache holds an older one: when the write to the cache
	// failed or WithWriteBack(false) kept it out.
	renewed *kdc.Credential
}

// reloadAfter is how long what was read from a cache without a change
// stamp (KCM:, KEYRING:, MEMORY:) is used before reading it again.
const reloadAfter = time.Second

// ccState is what was read from the cache, and how to tell it changed.
type ccState struct {
	store     ccache.Store
	stamp     os.FileInfo // a file's: what it was when read
	read      time.Time   // when read (wall clock, not the source's clock)
	collStamp os.FileInfo // DIR: with a principal: the directory when scanned
	principal ccache.Principal
	tgt       *kdc.Credential
	tickets   map[string]*kdc.Credential
}

var (
	_ Source    = (*CCacheSource)(nil)
	_ TGTSource = (*CCacheSource)(nil)
	_ Dropper   = (*CCacheSource)(nil)
)

// NewCCacheSource returns a source reading the cache cacheName (""
// for cfg.CCacheName()), named as MIT names caches: "FILE:/path" or a bare
// path; "DIR:/dir" (a collection) or "DIR::/dir/tktXXX" (one cache of it);
// "KCM:" (the KCM daemon's collection; its socket is krb5.conf's
// kcm_socket) or "KCM:1000", "KCM:1000:name" (one cache); a KEYRING:
// collection ("KEYRING:persistent:1000", "KEYRING:session:name",
// "KEYRING:user:name", "KEYRING:process:name", "KEYRING:thread:name",
// "KEYRING:name") or one cache of it (a third part: "KEYRING:session:x:y");
// "MEMORY:name". Other types (API:, MSLSA:) fail with
// ErrUnsupportedCCache, as do KEYRING: off Linux and KCM: on Windows.
//
// With principal "" the cache's default principal is used (for a
// collection, the primary cache's). With a principal ("alice" or
// "alice@REALM"; realm defaulting to default_realm), a collection is
// searched for the cache of that principal, the primary first, and a single
// cache must hold it, as MIT does (case-sensitive). cfg nil means
// krb5conf.Load(). The cache is not read until first use.
func NewCCacheSource(cfg *krb5conf.Config, cacheName, principal string, opts ...Option) (*CCacheSource, error) {
	cfg, c, err := newCore(cfg, opts)
	if err != nil {
		return nil, err
	}
	if cacheName == "" {
		cacheName = cfg.CCacheName()
	}
	name, err := parseCCacheName(cacheName)
	if err != nil {
		return nil, &Error{Op: "open credential cache", Principal: principal, Err: err}
	}
	target, err := resolveCCache(name, cfg)
	if err != nil {
		return nil, &Error{Op: "open credential cache", Principal: principal, Err: err}
	}
	s := &CCacheSource{core: c, name: name, target: target}
	if principal != "" {
		name, realm, err := ticket.ParsePrincipal(principal, cfg.LibDefaults.DefaultRealm, nametype.KRB_NT_PRINCIPAL)
		if err != nil {
			return nil, &Error{Op: "open credential cache", Err: withSentinel(ErrMalformed, "", err)}
		}
		s.want = &ccache.Principal{Components: name.NameString, Realm: realm}
	}
	return s, nil
}

// Name returns the cache name the source reads.
func (s *CCacheSource) Name() string { return s.name.String() }

// ServiceTicket implements Source.
func (s *CCacheSource) ServiceTicket(ctx context.Context, spn string) (*ticket.Ticket, error) {
	return s.serviceTicket(ctx, s, spn)
}

// DropTicket implements Dropper.
func (s *CCacheSource) DropTicket(spn string, tkt *ticket.Ticket) {
	s.dropTicket(context.Background(), spn, tkt)
}

// TGT returns the cache's TGT for the client's realm.
func (s *CCacheSource) TGT(ctx context.Context) (*ticket.Ticket, error) { return s.tgtTicket(ctx, s) }

// ForwardedTGT returns a forwarded copy of the TGT for delegation; the TGT
// must be forwardable (kinit -f).
func (s *CCacheSource) ForwardedTGT(ctx context.Context) (*ticket.Ticket, error) {
	return s.forwardedTGT(ctx, s)
}

func (s *CCacheSource) client(ctx context.Context) (types.PrincipalName, string, error) {
	st, err := s.load(ctx, time.Time{})
	if err != nil {
		return types.PrincipalName{}, "", err
	}
	return types.PrincipalName{NameType: st.principal.NameType, NameString: st.principal.Components}, st.principal.Realm, nil
}

func (s *CCacheSource) tgt(ctx context.Context) (*kdc.Credential, error) {
	st, tgt, err := s.currentTGT(ctx)
	if err != nil {
		return nil, err
	}
	if s.opts.renewal && !s.fresh(tgt) && s.renewable(tgt) {
		return s.renew(ctx)
	}
	if !s.valid(tgt) {
		return nil, expiredError(st.principal.String(), tgt.EndTime)
	}
	return tgt, nil
}

// currentTGT returns the cache's TGT, or the one this source renewed if
// that is newer and the cache still belongs to its client.
func (s *CCacheSource) currentTGT(ctx context.Context) (*ccState, *kdc.Credential, error) {
	st, err := s.load(ctx, time.Time{})
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	renewed := s.renewed
	s.mu.Unlock()
	tgt := st.tgt
	if renewed != nil && renewed.ClientRealm == st.principal.Realm && slices.Equal(renewed.Client.NameString, st.principal.Components) &&
		(tgt == nil || renewed.EndTime.After(tgt.EndTime)) {
		tgt = renewed
	}
	if tgt == nil {
		return nil, nil, withSentinel(ErrNoCredentials, fmt.Sprintf("no TGT for %s in %s", st.principal, st.store.Name()), nil)
	}
	return st, tgt, nil
}

// renew renews the TGT, once however many goroutines ask, and writes it
// to the cache as kinit -R does: the cache is initialized anew with the
// renewed TGT alone (the service tickets in it were got with the old
// session key; this source keeps its own in memory). While renewing fails
// the TGT is used until it expires, and renewal is retried with a
// backoff.
func (s *CCacheSource) renew(ctx context.Context) (*kdc.Credential, error) {
	return s.flight.do(ctx, tgtKey, func(ctx context.Context) (*kdc.Credential, error) {
		st, tgt, err := s.currentTGT(ctx)
		if err != nil {
			return nil, err
		}
		if s.fresh(tgt) || !s.renewable(tgt) {
			if !s.valid(tgt) {
				return nil, expiredError(st.principal.String(), tgt.EndTime)
			}
			return tgt, nil
		}
		if err := s.backingOff(tgtKey); err != nil {
			return tgt, nil // renewable means valid
		}
		cred, err := s.kdc.Renew(ctx, tgt)
		if err != nil {
			s.failed(tgtKey, err, tgt)
			if isContextErr(err) {
				return nil, err
			}
			s.counts.refreshFailures.Add(1)
			s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: TGT renewal failed, using the current TGT until it expires",
				slog.String("cache", st.store.Name()), slog.String("client", st.principal.String()), slog.Time("end", tgt.EndTime), slog.Any("error", err))
			return tgt, nil
		}
		s.succeeded(tgtKey)
		s.counts.renewals.Add(1)
		s.counts.refreshes.Add(1)
		s.mu.Lock()
		s.renewed = cred
		s.mu.Unlock()
		s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: TGT renewed",
			slog.String("cache", st.store.Name()), slog.String("client", st.principal.String()), slog.Time("end", cred.EndTime), slog.Time("renew_till", cred.RenewTill))
		if s.opts.writeBack {
			s.writeRenewed(ctx, st, cred)
		}
		return cred, nil
	})
}

// writeRenewed replaces the cache's content with the renewed TGT, as
// kinit -R does. A failure is logged; the TGT is still used.
func (s *CCacheSource) writeRenewed(ctx context.Context, st *ccState, cred *kdc.Credential) {
	entry, err := ccache.FromTicket(toTicket(cred))
	if err == nil {
		err = st.store.Initialize(ctx, st.principal, []*ccache.Credential{entry})
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: renewed TGT not written to the cache",
			slog.String("cache", st.store.Name()), slog.Any("error", err))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: renewed TGT written to the cache", slog.String("cache", st.store.Name()))
}

// stored looks key up in what was read. A cache without a change stamp is
// read again first when the ticket is not there: another process (kvno,
// curl, another of our programs) may have stored it since.
func (s *CCacheSource) stored(ctx context.Context, key string) *kdc.Credential {
	asked := time.Now()
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	if t := st.lookup(key); t != nil || st == nil || st.stamp != nil {
		return t
	}
	st, err := s.load(ctx, asked)
	if err != nil {
		return nil
	}
	return st.lookup(key)
}

func (st *ccState) lookup(key string) *kdc.Credential {
	if st == nil {
		return nil
	}
	if t, ok := st.tickets[key]; ok {
		return t
	}
	// MIT stores tickets got through referrals under the empty realm.
	if i := strings.LastIndexByte(key, '@'); i >= 0 {
		return st.tickets[key[:i+1]]
	}
	return nil
}

// writeBack stores a service ticket got with the cache's TGT in the cache
// the TGT came from, under server (the name MIT would store it under), as
// MIT's krb5_get_credentials does. A failure costs nothing but the write:
// it is logged, and the ticket is still handed out.
func (s *CCacheSource) writeBack(ctx context.Context, server ccache.Principal, cred *kdc.Credential) {
	if !s.opts.writeBack {
		return
	}
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	if st == nil {
		return
	}
	entry, err := ccache.FromTicket(toTicket(cred))
	if err == nil {
		entry.Server = server
		err = st.store.Add(ctx, entry)
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: service ticket not written back to the cache",
			slog.String("cache", st.store.Name()), slog.String("server", server.String()), slog.Any("error", err))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: service ticket written back to the cache",
		slog.String("cache", st.store.Name()), slog.String("server", server.String()))
}

func unchanged(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// load returns the cache's content, re-reading it only when it changed, or
// when it was read before since (a zero time: a stamp-less cache read
// within reloadAfter is used as it is).
func (s *CCacheSource) load(ctx context.Context, since time.Time) (*ccState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.loadLocked(ctx, since, false)
	if err != nil && s.target.coll != nil && s.want != nil && errors.Is(err, ErrNoCredentials) {
		// The cache found by the last scan changed hands: scan again.
		st, err = s.loadLocked(ctx, since, true)
	}
	if err != nil {
		return nil, err
	}
	if s.st == nil || !s.st.principal.Equal(st.principal) {
		s.reset()
	}
	if s.st != st {
		s.log.Debug("credentials: read credential cache", slog.String("cache", s.name.String()), slog.String("from", st.store.Name()), slog.String("principal", st.principal.String()))
	}
	s.st = st
	return st, nil
}

func (s *CCacheSource) loadLocked(ctx context.Context, since time.Time, rescan bool) (*ccState, error) {
	store, collStamp, err := s.pick(ctx, rescan)
	if err != nil {
		return nil, err
	}
	same := s.st != nil && s.st.store.Name() == store.Name()
	var stamp os.FileInfo
	if f, ok := store.(*file.Cache); ok {
		if stamp, err = os.Stat(f.Path()); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, withSentinel(ErrNoCredentials, "no credential cache "+store.Name(), err)
			}
			return nil, err
		}
		if same && unchanged(s.st.stamp, stamp) {
			return s.st, nil
		}
	} else if same && (s.st.read.After(since) && !since.IsZero() || since.IsZero() && time.Since(s.st.read) < reloadAfter) {
		return s.st, nil
	}
	c, err := store.Load(ctx)
	if err != nil {
		return nil, ccacheError(err)
	}
	if s.want != nil && !c.Principal.Equal(*s.want) {
		if s.target.coll != nil {
			return nil, withSentinel(ErrNoCredentials, fmt.Sprintf("%s no longer holds %s", store.Name(), s.want), nil)
		}
		return nil, &PrincipalMismatchError{Cache: s.name.String(), Want: s.want.String(), Have: c.Principal.String()}
	}
	st := &ccState{store: store, stamp: stamp, read: time.Now(), collStamp: collStamp, principal: c.Principal, tickets: make(map[string]*kdc.Credential)}
	tgtName := "krbtgt/" + c.Principal.Realm + "@" + c.Principal.Realm
	for _, cc := range c.Credentials {
		if !cc.Client.Equal(c.Principal) || cc.IsSKey {
			continue
		}
		cred, err := fromCCache(cc)
		if err != nil {
			s.log.Debug("credentials: skipping unreadable ticket in cache", slog.String("cache", store.Name()), slog.String("server", cc.Server.String()), slog.Any("error", err))
			continue
		}
		key := cc.Server.String()
		if key == tgtName {
			if st.tgt == nil || cred.EndTime.After(st.tgt.EndTime) {
				st.tgt = cred
			}
			continue
		}
		// Of equal end times the later entry wins: it was stored last,
		// and after a refused ticket was dropped and a fresh one written
		// back (both got with one TGT, so ending together), the fresh one
		// is the one to use.
		if old, ok := st.tickets[key]; !ok || !cred.EndTime.Before(old.EndTime) {
			st.tickets[key] = cred
		}
	}
	return st, nil
}

// pick returns the cache to read: the one cache named; a collection's
// primary; or the collection's cache of the principal asked for, found
// again only when the collection may have changed (a DIR: directory's
// stamp) or the cache no longer holds the principal (rescan).
func (s *CCacheSource) pick(ctx context.Context, rescan bool) (ccache.Store, os.FileInfo, error) {
	t := s.target
	switch {
	case t.single != nil:
		return t.single, nil, nil
	case s.want == nil:
		p, err := t.coll.Primary(ctx)
		return p, nil, ccacheError(err)
	}
	var collStamp os.FileInfo
	if d, ok := t.coll.(*file.Dir); ok {
		di, err := os.Stat(d.Path())
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil, withSentinel(ErrNoCredentials, "no credential cache collection "+s.name.String(), err)
			}
			return nil, nil, err
		}
		if !rescan && s.st != nil && unchanged(s.st.collStamp, di) {
			return s.st.store, di, nil
		}
		collStamp = di
	} else if !rescan && s.st != nil {
		return s.st.store, nil, nil
	}
	caches, err := t.coll.Caches(ctx)
	if err != nil {
		return nil, nil, ccacheError(err)
	}
	for _, c := range caches {
		if cc, err := c.Load(ctx); err == nil && cc.Principal.Equal(*s.want) {
			return c, collStamp, nil
		}
	}
	return nil, nil, withSentinel(ErrNoCredentials, fmt.Sprintf("no cache for %s in collection %s", s.want, s.name.String()), nil)
}

// parseCCacheName parses a cache name.
func parseCCacheName(s string) (ccache.Name, error) {
	if s == "" {
		return ccache.Name{}, withSentinel(ErrNoCredentials, "empty credential cache name", nil)
	}
	name, err := ccache.ParseName(s)
	if err != nil {
		return name, withSentinel(ErrMalformed, "", err)
	}
	return name, nil
}

func fromCCache(c *ccache.Credential) (*kdc.Credential, error) {
	t, err := kdc.ParseTicket(c.Ticket)
	if err != nil {
		return nil, err
	}
	return &kdc.Credential{
		Client:      types.PrincipalName{NameType: c.Client.NameType, NameString: c.Client.Components},
		ClientRealm: c.Client.Realm,
		Server:      types.PrincipalName{NameType: c.Server.NameType, NameString: c.Server.Components},
		ServerRealm: c.Server.Realm,
		Ticket:      t,
		SessionKey:  types.EncryptionKey{KeyType: c.Key.EncType, KeyValue: c.Key.Value},
		Flags:       asn1.BitString{Bytes: binary.BigEndian.AppendUint32(nil, c.Flags), BitLength: 32},
		AuthTime:    c.AuthTime,
		StartTime:   c.StartTime,
		EndTime:     c.EndTime,
		RenewTill:   c.RenewTill,
	}, nil
}
