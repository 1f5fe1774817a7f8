package ccache

import (
	"context"
	"errors"
)

// Errors shared by the cache backends (FILE, KCM, KEYRING, MEMORY), for
// errors.Is. Backend errors carry details (the KCM reply code, the keyring
// errno, the path) and match one of these.
var (
	// ErrNotFound: the cache does not exist or was never initialized (no
	// file, a KCM or keyring cache without a default principal, an empty
	// collection).
	ErrNotFound = errors.New("credential cache not found")
	// ErrUnsupported: the cache type cannot work here (KEYRING off Linux,
	// a kernel without persistent keyrings, KCM on Windows).
	ErrUnsupported = errors.New("credential cache type not supported here")
	// ErrUnavailable: the cache's daemon cannot be reached (no KCM socket,
	// connection refused).
	ErrUnavailable = errors.New("credential cache daemon unavailable")
)

// Store is one credential cache: a file, one cache of a KCM or keyring
// collection, or a memory cache. Implementations are safe for concurrent
// use and honour the context for anything that can block.
type Store interface {
	// Name is the cache's full name, with its type, as MIT names it
	// (what klist prints): "FILE:/tmp/krb5cc_0", "KCM:0:12345",
	// "KEYRING:session:x:x", "MEMORY:m".
	Name() string
	// Load returns the default principal and the credentials. A cache
	// that does not exist or holds no principal is an error matching
	// ErrNotFound.
	Load(ctx context.Context) (*Cache, error)
	// Add stores one more credential, as krb5_cc_store does. It is for
	// writing back tickets obtained with the cache's TGT: when the
	// cache's default principal is no longer cred.Client (someone ran
	// kinit as another principal meanwhile), nothing is written and the
	// error is a *PrincipalChangedError.
	Add(ctx context.Context, cred *Credential) error
	// Initialize makes the cache hold principal and exactly creds,
	// replacing what it held, as kinit does.
	Initialize(ctx context.Context, principal Principal, creds []*Credential) error
}

// Collection is a set of caches with one primary cache (DIR, KCM,
// KEYRING): what kswitch changes and klist -l lists.
type Collection interface {
	// Name is the collection's name, for example "KCM:" or
	// "KEYRING:persistent:1000".
	Name() string
	// Primary returns the primary cache, which may not be initialized yet.
	Primary(ctx context.Context) (Store, error)
	// Caches returns the initialized caches, the primary first.
	Caches(ctx context.Context) ([]Store, error)
	// New creates an empty cache with a fresh name in the collection.
	New(ctx context.Context) (Store, error)
	// SetPrimary makes s (a cache of this collection) the primary, as
	// kswitch does.
	SetPrimary(ctx context.Context, s Store) error
}

// PrincipalChangedError is returned by Store.Add when the cache now belongs
// to another principal than the credential's client.
type PrincipalChangedError struct {
	Cache string    // cache name
	Want  Principal // the credential's client
	Have  Principal // the cache's default principal now
}

func (e *PrincipalChangedError) Error() string {
	return "ccache: " + e.Cache + " now holds credentials for " + e.Have.String() + ", not " + e.Want.String() + "; nothing written"
}

// CheckPrincipal returns a *PrincipalChangedError unless have, the
// default principal of cache name, is cred's client. Backends call it in
// Add before writing.
func CheckPrincipal(name string, have Principal, cred *Credential) error {
	if have.Equal(cred.Client) {
		return nil
	}
	return &PrincipalChangedError{Cache: name, Want: cred.Client, Have: have}
}

// NotFoundError says which cache does not exist and why; it matches
// ErrNotFound.
type NotFoundError struct {
	Cache  string // cache name
	Reason string
	Err    error // the underlying cause (an *fs.PathError, a KCM reply), or nil
}

func (e *NotFoundError) Error() string {
	s := "ccache: " + e.Cache + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }
