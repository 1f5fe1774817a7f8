package credentials

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// CCacheSource gets service tickets with the TGT in an MIT credential
// cache (what kinit wrote). Service tickets already in the cache are used
// while fresh; new ones are kept in memory (the file is never written).
//
// The cache is looked at on every call (a stat, plus reading DIR:'s small
// primary file), and re-read when it changed, so a kinit by the user is
// picked up without a restart. A source cannot renew the TGT itself: when
// it has expired, calls fail with an error matching ErrExpired until the
// cache is refreshed.
//
// A CCacheSource is safe for concurrent use.
type CCacheSource struct {
	*core
	name ccache.Name
	want *ccache.Principal // nil: the cache's default principal

	mu sync.Mutex // guards st, serializes reading the file
	st *ccState
}

// ccState is what was read from the cache, and how to tell it changed.
type ccState struct {
	path      string
	info      os.FileInfo
	dirInfo   os.FileInfo // DIR: with a principal: the directory when scanned
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
// for cfg.CCacheName()): "FILE:/path", a bare path, "DIR:/dir" (a
// collection) or "DIR::/dir/tktXXX" (one cache of a collection). Other
// types fail with ErrUnsupportedCCache.
//
// With principal "" the cache's default principal is used (for DIR:, the
// primary cache's). With a principal ("alice" or "alice@REALM"; realm
// defaulting to default_realm), a collection is searched for the cache of
// that principal, and a single cache must hold it, as MIT does
// (case-sensitive). cfg nil means krb5conf.Load(). The cache is not read until
// first use.
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
	s := &CCacheSource{core: c, name: name}
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
	s.dropTicket(context.Background(), s, spn, tkt)
}

// TGT returns the cache's TGT for the client's realm.
func (s *CCacheSource) TGT(ctx context.Context) (*ticket.Ticket, error) { return s.tgtTicket(ctx, s) }

// ForwardedTGT returns a forwarded copy of the TGT for delegation; the TGT
// must be forwardable (kinit -f).
func (s *CCacheSource) ForwardedTGT(ctx context.Context) (*ticket.Ticket, error) {
	return s.forwardedTGT(ctx, s)
}

func (s *CCacheSource) client() (types.PrincipalName, string, error) {
	st, err := s.load()
	if err != nil {
		return types.PrincipalName{}, "", err
	}
	return types.PrincipalName{NameType: st.principal.NameType, NameString: st.principal.Components}, st.principal.Realm, nil
}

func (s *CCacheSource) tgt(ctx context.Context) (*kdc.Credential, error) {
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	if st.tgt == nil {
		return nil, withSentinel(ErrNoCredentials, fmt.Sprintf("no TGT for %s in %s", st.principal, s.name.String()), nil)
	}
	if !s.valid(st.tgt) {
		return nil, expiredError(st.principal.String(), st.tgt.EndTime)
	}
	return st.tgt, nil
}

func (s *CCacheSource) stored(key string) *kdc.Credential {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
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

func unchanged(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// load returns the cache's content, re-reading it only when it changed.
func (s *CCacheSource) load() (*ccState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.loadLocked(false)
	if err != nil && s.name.Path == "" && s.want != nil && errors.Is(err, ErrNoCredentials) {
		// The cache found by the last scan changed hands: scan again.
		st, err = s.loadLocked(true)
	}
	if err != nil {
		return nil, err
	}
	if s.st == nil || !s.st.principal.Equal(st.principal) {
		s.reset()
	}
	if s.st != st {
		s.log.Debug("credentials: read credential cache", slog.String("cache", s.name.String()), slog.String("file", st.path), slog.String("principal", st.principal.String()))
	}
	s.st = st
	return st, nil
}

func (s *CCacheSource) loadLocked(rescan bool) (*ccState, error) {
	var path string
	var dirInfo os.FileInfo
	switch {
	case s.name.Path != "":
		path = s.name.Path
	case s.want == nil:
		p, err := ccache.PrimaryFile(s.name.Dir)
		if err != nil {
			return nil, collectionError(err)
		}
		path = p
	default:
		di, err := os.Stat(s.name.Dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, withSentinel(ErrNoCredentials, "no credential cache collection "+s.name.String(), err)
			}
			return nil, err
		}
		if !rescan && s.st != nil && unchanged(s.st.dirInfo, di) {
			path = s.st.path
		} else if path, err = s.scan(); err != nil {
			return nil, err
		}
		dirInfo = di
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, withSentinel(ErrNoCredentials, "no credential cache "+s.name.String(), err)
		}
		return nil, err
	}
	if s.st != nil && s.st.path == path && unchanged(s.st.info, fi) {
		return s.st, nil
	}
	c, err := readCCache(path)
	if err != nil {
		return nil, err
	}
	if s.want != nil && !c.Principal.Equal(*s.want) {
		if s.name.Path == "" {
			return nil, withSentinel(ErrNoCredentials, fmt.Sprintf("%s no longer holds %s", path, s.want), nil)
		}
		return nil, &PrincipalMismatchError{Cache: s.name.String(), Want: s.want.String(), Have: c.Principal.String()}
	}
	st := &ccState{path: path, info: fi, dirInfo: dirInfo, principal: c.Principal, tickets: make(map[string]*kdc.Credential)}
	tgtName := "krbtgt/" + c.Principal.Realm + "@" + c.Principal.Realm
	for _, cc := range c.Credentials {
		if !cc.Client.Equal(c.Principal) || cc.IsSKey {
			continue
		}
		cred, err := fromCCache(cc)
		if err != nil {
			s.log.Debug("credentials: skipping unreadable ticket in cache", slog.String("file", path), slog.String("server", cc.Server.String()), slog.Any("error", err))
			continue
		}
		key := cc.Server.String()
		if key == tgtName {
			if st.tgt == nil || cred.EndTime.After(st.tgt.EndTime) {
				st.tgt = cred
			}
			continue
		}
		if old, ok := st.tickets[key]; !ok || cred.EndTime.After(old.EndTime) {
			st.tickets[key] = cred
		}
	}
	return st, nil
}

// parseCCacheName parses a cache name and refuses the types this package
// cannot read yet.
func parseCCacheName(s string) (ccache.Name, error) {
	if s == "" {
		return ccache.Name{}, withSentinel(ErrNoCredentials, "empty credential cache name", nil)
	}
	name, err := ccache.ParseName(s)
	if err != nil {
		return name, withSentinel(ErrMalformed, "", err)
	}
	if name.Kind != ccache.KindFile && name.Kind != ccache.KindDir {
		return name, withSentinel(ErrUnsupportedCCache, fmt.Sprintf("credential cache type %s: is not supported (cache %s); use a FILE: or DIR: cache, e.g. KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u)", name.Type, s), nil)
	}
	return name, nil
}

// collectionError gives a DIR: collection's error this package's sentinel.
func collectionError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return withSentinel(ErrNoCredentials, "no credential cache collection", err)
	case errors.Is(err, ccache.ErrMalformed):
		return withSentinel(ErrMalformed, "", err)
	}
	return err
}

// scan finds the cache of s.want in the collection, primary first.
func (s *CCacheSource) scan() (string, error) {
	files, err := ccache.CollectionFiles(s.name.Dir)
	if err != nil {
		return "", collectionError(err)
	}
	for _, f := range files {
		c, err := readCCache(f)
		if err == nil && c.Principal.Equal(*s.want) {
			return f, nil
		}
	}
	return "", withSentinel(ErrNoCredentials, fmt.Sprintf("no cache for %s in collection %s", s.want, s.name.String()), nil)
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
