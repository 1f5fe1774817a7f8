package kcm

import (
	"context"
	"errors"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// Cache is one cache of the daemon, a ccache.Store.
type Cache struct {
	client *Client
	name   string
}

var _ ccache.Store = (*Cache)(nil)

// Cache returns the cache called name ("1000", "1000:57821"). For "KCM:"
// (the primary cache) use Collection.Primary, which asks the daemon for
// the name as MIT does when it resolves "KCM:".
func (c *Client) Cache(name string) *Cache { return &Cache{client: c, name: name} }

// Name implements ccache.Store.
func (c *Cache) Name() string { return "KCM:" + c.name }

// Residual is the daemon's name for the cache (the name without "KCM:").
func (c *Cache) Residual() string { return c.name }

// Load implements ccache.Store.
func (c *Cache) Load(ctx context.Context) (*ccache.Cache, error) { return c.client.Load(ctx, c.name) }

// Add implements ccache.Store.
func (c *Cache) Add(ctx context.Context, cred *ccache.Credential) error {
	return c.client.Store(ctx, c.name, cred)
}

// Initialize implements ccache.Store.
func (c *Cache) Initialize(ctx context.Context, p ccache.Principal, creds []*ccache.Credential) error {
	return c.client.Initialize(ctx, c.name, p, creds)
}

// Collection is the daemon's set of caches for the calling user: "KCM:".
type Collection struct{ client *Client }

var _ ccache.Collection = Collection{}

// Collection returns the user's collection.
func (c *Client) Collection() Collection { return Collection{client: c} }

// Name implements ccache.Collection.
func (Collection) Name() string { return "KCM:" }

// Primary implements ccache.Collection.
func (k Collection) Primary(ctx context.Context) (ccache.Store, error) {
	name, err := k.client.DefaultName(ctx)
	if err != nil {
		return nil, err
	}
	return k.client.Cache(name), nil
}

// Caches implements ccache.Collection: the initialized caches, the primary
// first, as klist -l lists them.
func (k Collection) Caches(ctx context.Context) ([]ccache.Store, error) {
	var out []ccache.Store
	err := k.client.with(ctx, func(s *session) error {
		primary, err := s.defaultName()
		if err != nil {
			return err
		}
		names, err := s.names()
		if err != nil {
			return err
		}
		ordered := append([]string{primary}, names...)
		seen := make(map[string]bool, len(ordered))
		for _, n := range ordered {
			if seen[n] {
				continue
			}
			seen[n] = true
			if _, err := s.principal(n); err != nil {
				if errors.Is(err, ccache.ErrNotFound) {
					continue
				}
				return err
			}
			out = append(out, k.client.Cache(n))
		}
		return nil
	})
	return out, err
}

// New implements ccache.Collection (GEN_NEW).
func (k Collection) New(ctx context.Context) (ccache.Store, error) {
	name, err := k.client.NewName(ctx)
	if err != nil {
		return nil, err
	}
	return k.client.Cache(name), nil
}

// SetPrimary implements ccache.Collection (SET_DEFAULT_CACHE).
func (k Collection) SetPrimary(ctx context.Context, s ccache.Store) error {
	c, ok := s.(*Cache)
	if !ok {
		return &ccache.NotFoundError{Cache: s.Name(), Reason: "not a KCM cache"}
	}
	return k.client.SetDefault(ctx, c.name)
}
