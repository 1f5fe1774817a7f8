package keyring

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// findOrCreate finds the keyring name in parent, or makes it; with possess
// it is also linked from possess (the process keyring), which gives
// possession rights on keys in the user and persistent keyrings (MIT's
// find_or_create_keyring).
func findOrCreate(parent, possess int, name string) (int, error) {
	if id, err := search(parent, typeKeyring, name, possess); err == nil {
		return id, nil
	}
	if possess == 0 {
		return addKey(typeKeyring, name, nil, parent)
	}
	id, err := addKey(typeKeyring, name, nil, possess)
	if err != nil {
		return 0, err
	}
	return id, link(id, parent)
}

// collection finds or makes the collection keyring n names (MIT's
// get_collection).
func collection(n Name) (int, error) {
	var anchor, possess int
	switch n.Anchor {
	case AnchorPersistent:
		uid := os.Geteuid()
		if n.Collection != "" {
			u, _ := strconv.ParseUint(n.Collection, 10, 32) // checked by ParseName
			uid = int(u)
		}
		p, err := unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, uid, unix.KEY_SPEC_PROCESS_KEYRING, 0, 0)
		if errors.Is(err, unix.EOPNOTSUPP) {
			// No persistent keyrings in this kernel: MIT uses the
			// user keyring for the caller's own uid.
			if uid != os.Geteuid() {
				return 0, fmt.Errorf("keyring: KEYRING:persistent:%d: this kernel has no persistent keyrings (CONFIG_PERSISTENT_KEYRINGS), and uid %d is not the caller's: %w", uid, uid, ccache.ErrUnsupported)
			}
			p, err = unix.KEY_SPEC_USER_KEYRING, nil
		}
		if err != nil {
			return 0, &Error{Op: "get persistent keyring of", Key: "uid " + strconv.Itoa(uid), Err: err}
		}
		return findOrCreate(p, unix.KEY_SPEC_PROCESS_KEYRING, persistentName)
	case AnchorProcess:
		anchor = unix.KEY_SPEC_PROCESS_KEYRING
	case AnchorThread:
		anchor = unix.KEY_SPEC_THREAD_KEYRING
	case AnchorSession, AnchorLegacy:
		anchor = sessionWriteAnchor()
	case AnchorUser:
		anchor, possess = unix.KEY_SPEC_USER_KEYRING, unix.KEY_SPEC_PROCESS_KEYRING
	default:
		return 0, fmt.Errorf("keyring: unknown anchor %q: %w", n.Anchor, ccache.ErrMalformed)
	}
	return findOrCreate(anchor, possess, collPrefix+n.Collection)
}

// primaryName returns the collection's primary cache name, making the
// index key (and, for a legacy collection, adopting a cache the old code
// made) when there is none yet (MIT's get_primary_name).
func primaryName(n Name, coll int) (string, error) {
	id, err := search(coll, typeUser, keyPrimary, 0)
	if err != nil {
		sub := n.defaultSubsidiary()
		if _, err := addKey(typeUser, keyPrimary, marshalIndex(sub), coll); err != nil {
			return "", err
		}
		if n.Anchor == AnchorLegacy {
			if legacy, err := search(unix.KEY_SPEC_SESSION_KEYRING, typeKeyring, sub, 0); err == nil {
				if err := link(legacy, coll); err != nil {
					return "", err
				}
			}
		}
		return sub, nil
	}
	b, err := read(id)
	if err != nil {
		return "", err
	}
	name, err := parseIndex(b)
	if err != nil {
		return "", &Error{Op: "read primary index of", Key: n.CollectionName(), Err: err}
	}
	return name, nil
}

// cacheKeys are the keys of an initialized cache.
type cacheKeys struct {
	coll, cache, princ int
}

// find locates an initialized cache; a missing cache keyring or principal
// key is a *ccache.NotFoundError.
func (c *Cache) find() (cacheKeys, error) {
	var k cacheKeys
	var err error
	if k.coll, err = collection(c.name); err != nil {
		return k, err
	}
	if k.cache, err = search(k.coll, typeKeyring, c.name.Subsidiary, 0); err != nil {
		if missing(err) {
			return k, &ccache.NotFoundError{Cache: c.Name(), Reason: "no such cache keyring", Err: err}
		}
		return k, err
	}
	if k.princ, err = search(k.cache, typeUser, keyPrincipal, 0); err != nil {
		if missing(err) {
			return k, &ccache.NotFoundError{Cache: c.Name(), Reason: "cache keyring has no principal (not initialized)", Err: err}
		}
		return k, err
	}
	return k, nil
}

// open finds an initialized cache and reads its default principal.
func (c *Cache) open() (cacheKeys, ccache.Principal, error) {
	k, err := c.find()
	if err != nil {
		return k, ccache.Principal{}, err
	}
	b, err := read(k.princ)
	if err != nil {
		return k, ccache.Principal{}, err
	}
	p, err := parsePrincipal(b)
	if err != nil {
		return k, p, &Error{Op: "read", Key: c.Name() + " " + keyPrincipal, Err: err}
	}
	return k, p, nil
}

// credentials reads every credential key of the cache. Keys unlinked,
// expired or revoked meanwhile are skipped (MIT skips unlinked ones); a
// key that is not a credential is an error matching ErrBadKey.
func (c *Cache) credentials(k cacheKeys) ([]*ccache.Credential, error) {
	list, err := read(k.cache)
	if err != nil {
		return nil, err
	}
	offsets, _ := search(k.cache, typeUser, keyTimeOffsets, 0)
	var creds []*ccache.Credential
	for _, id := range parseKeyList(list) {
		if id == k.princ || id == offsets {
			continue
		}
		b, err := read(id)
		if err != nil {
			if missing(err) || errors.Is(err, unix.EACCES) {
				continue
			}
			return nil, err
		}
		cred, err := parseCredential(b)
		if err != nil {
			return nil, &Error{Op: "read", Key: fmt.Sprintf("%s key %d", c.Name(), id), Err: err}
		}
		creds = append(creds, cred)
	}
	return creds, nil
}

// Load implements ccache.Store.
func (c *Cache) Load(ctx context.Context) (cc *ccache.Cache, err error) {
	err = onThread(ctx, func() error {
		k, p, err := c.open()
		if err != nil {
			return err
		}
		creds, err := c.credentials(k)
		if err != nil {
			return err
		}
		cc = ccache.NewCache(p, creds)
		return nil
	})
	return cc, err
}

// Add implements ccache.Store: one key named by the server principal
// (replacing an older credential for the same server, as add_key does),
// expiring with the ticket, as MIT's krcc_store.
func (c *Cache) Add(ctx context.Context, cred *ccache.Credential) error {
	return onThread(ctx, func() error {
		k, p, err := c.open()
		if err != nil {
			return err
		}
		if err := ccache.CheckPrincipal(c.Name(), p, cred); err != nil {
			return err
		}
		if err := c.store(k.cache, cred); err != nil {
			return err
		}
		c.updateExpiration(k)
		return nil
	})
}

// store adds one credential key: big_key where the kernel has it (not in
// legacy caches, which old readers could not parse), else user.
func (c *Cache) store(cache int, cred *ccache.Credential) error {
	name := cred.Server.String()
	payload := ccache.MarshalCredential(nil, cred)
	var id int
	var err error
	if c.name.Anchor != AnchorLegacy {
		id, err = addKey(typeBigKey, name, payload, cache)
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENODEV) {
			return err
		}
	}
	if c.name.Anchor == AnchorLegacy || err != nil {
		if id, err = addKey(typeUser, name, payload, cache); err != nil {
			return err
		}
	}
	if left := time.Until(cred.EndTime); !cred.EndTime.IsZero() && left > 0 {
		_ = setTimeout(id, int(left.Seconds())+1)
	}
	return nil
}

// updateExpiration makes the cache keyring expire with its longest-lived
// credential, as MIT's update_keyring_expiration (at least one second: a
// zero timeout would mean none).
func (c *Cache) updateExpiration(k cacheKeys) {
	creds, err := c.credentials(k)
	if err != nil {
		return
	}
	var end time.Time
	for _, cr := range creds {
		if cr.EndTime.After(end) {
			end = cr.EndTime
		}
	}
	if end.IsZero() {
		return
	}
	_ = setTimeout(k.cache, max(int(time.Until(end).Seconds()), 1))
}

// Initialize implements ccache.Store: the cache keyring is emptied (or
// made), then given the principal and creds (MIT's krcc_initialize then
// krcc_store).
func (c *Cache) Initialize(ctx context.Context, p ccache.Principal, creds []*ccache.Credential) error {
	return onThread(ctx, func() error {
		coll, err := collection(c.name)
		if err != nil {
			return err
		}
		cache, err := search(coll, typeKeyring, c.name.Subsidiary, 0)
		if err == nil {
			err = clearRing(cache)
		} else {
			cache, err = findOrCreate(coll, 0, c.name.Subsidiary)
		}
		if err != nil {
			return err
		}
		if c.name.isLegacyCache() {
			_ = link(cache, sessionWriteAnchor())
		}
		princ, err := addKey(typeUser, keyPrincipal, ccache.MarshalPrincipal(nil, p), cache)
		if err != nil {
			return err
		}
		for _, cr := range creds {
			if err := c.store(cache, cr); err != nil {
				return err
			}
		}
		c.updateExpiration(cacheKeys{coll: coll, cache: cache, princ: princ})
		return nil
	})
}

// Destroy empties the cache and unlinks it from its collection, as
// kdestroy does.
func (c *Cache) Destroy(ctx context.Context) error {
	return onThread(ctx, func() error {
		coll, err := collection(c.name)
		if err != nil {
			return err
		}
		cache, err := search(coll, typeKeyring, c.name.Subsidiary, 0)
		if err != nil {
			if missing(err) {
				return nil
			}
			return err
		}
		if err := clearRing(cache); err != nil {
			return err
		}
		if c.name.isLegacyCache() {
			_ = unlink(cache, sessionWriteAnchor())
		}
		return unlink(cache, coll)
	})
}

// Primary implements ccache.Collection: the cache the index key names,
// which may not be initialized yet.
func (c *Collection) Primary(ctx context.Context) (s ccache.Store, err error) {
	err = onThread(ctx, func() error {
		_, sub, err := c.primary()
		s = c.cache(sub)
		return err
	})
	return s, err
}

// primary returns the collection keyring and its primary cache's name.
func (c *Collection) primary() (coll int, sub string, err error) {
	if coll, err = collection(c.name); err != nil {
		return 0, "", err
	}
	sub, err = primaryName(c.name, coll)
	return coll, sub, err
}

func (c *Collection) cache(sub string) *Cache {
	n := c.name
	n.Subsidiary, n.HasSubsidiary = sub, true
	return &Cache{name: n}
}

// Caches implements ccache.Collection: the initialized cache keyrings of
// the collection, the primary first.
func (c *Collection) Caches(ctx context.Context) (out []ccache.Store, err error) {
	err = onThread(ctx, func() error {
		coll, primary, err := c.primary()
		if err != nil {
			return err
		}
		list, err := read(coll)
		if err != nil {
			return err
		}
		names := []string{primary}
		for _, id := range parseKeyList(list) {
			d, err := describe(id)
			if err != nil {
				continue // unlinked meanwhile, or not ours to see
			}
			if typ, sub, ok := description(d); ok && typ == typeKeyring && sub != primary {
				names = append(names, sub)
			}
		}
		for _, sub := range names {
			cache, err := search(coll, typeKeyring, sub, 0)
			if err != nil {
				continue
			}
			if _, err := search(cache, typeUser, keyPrincipal, 0); err != nil {
				continue
			}
			out = append(out, c.cache(sub))
		}
		return nil
	})
	return out, err
}

// New implements ccache.Collection: an empty cache keyring with a fresh
// random name "krb_ccache_XXXXXXXX" (MIT's unique_keyring).
func (c *Collection) New(ctx context.Context) (s ccache.Store, err error) {
	err = onThread(ctx, func() error {
		coll, err := collection(c.name)
		if err != nil {
			return err
		}
		for range 100 {
			sub := uniquePrefix + rand.Text()[:8]
			if _, err := search(coll, typeKeyring, sub, 0); err == nil {
				continue
			}
			if _, err := addKey(typeKeyring, sub, nil, coll); err != nil {
				return err
			}
			s = c.cache(sub)
			return nil
		}
		return fmt.Errorf("keyring: no free cache name in %s", c.Name())
	})
	return s, err
}

// SetPrimary implements ccache.Collection: the index key names s, as
// kswitch does.
func (c *Collection) SetPrimary(ctx context.Context, s ccache.Store) error {
	kc, ok := s.(*Cache)
	if !ok || kc.name.CollectionName() != c.Name() {
		return &ccache.NotFoundError{Cache: s.Name(), Reason: "not a cache of " + c.Name()}
	}
	return onThread(ctx, func() error {
		coll, err := collection(c.name)
		if err != nil {
			return err
		}
		_, err = addKey(typeUser, keyPrimary, marshalIndex(kc.name.Subsidiary), coll)
		return err
	})
}

// Destroy empties the collection keyring and unlinks it from its anchor:
// every cache of the collection is gone (kdestroy -A), and so is the
// collection itself. For the persistent anchor only the caches go; the
// persistent keyring is the kernel's.
func (c *Collection) Destroy(ctx context.Context) error {
	return onThread(ctx, func() error {
		coll, err := collection(c.name)
		if err != nil {
			return err
		}
		if err := clearRing(coll); err != nil {
			return err
		}
		switch c.name.Anchor {
		case AnchorPersistent:
			return unlink(coll, unix.KEY_SPEC_PROCESS_KEYRING)
		case AnchorUser:
			_ = unlink(coll, unix.KEY_SPEC_PROCESS_KEYRING)
			return unlink(coll, unix.KEY_SPEC_USER_KEYRING)
		case AnchorProcess:
			return unlink(coll, unix.KEY_SPEC_PROCESS_KEYRING)
		case AnchorThread:
			return unlink(coll, unix.KEY_SPEC_THREAD_KEYRING)
		}
		return unlink(coll, sessionWriteAnchor())
	})
}
