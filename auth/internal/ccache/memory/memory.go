package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// registry holds the process's memory caches by name. It is package
// state on purpose: a MEMORY: cache is shared by everything in the
// process that names it, as in MIT.
var registry = struct {
	sync.Mutex
	caches map[string]*Cache
}{caches: make(map[string]*Cache)}

// Cache is one memory cache. It is safe for concurrent use.
type Cache struct {
	name string

	mu        sync.Mutex // guards principal, creds
	principal *ccache.Principal
	creds     []*ccache.Credential
}

var _ ccache.Store = (*Cache)(nil)

// Open returns the memory cache called name (the part after "MEMORY:"),
// creating it uninitialized if the process has none of that name.
func Open(name string) *Cache {
	registry.Lock()
	defer registry.Unlock()
	c := registry.caches[name]
	if c == nil {
		c = &Cache{name: name}
		registry.caches[name] = c
	}
	return c
}

// Destroy forgets the memory cache called name, as kdestroy does.
func Destroy(name string) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.caches, name)
}

// Name implements ccache.Store.
func (c *Cache) Name() string { return "MEMORY:" + c.name }

// Load implements ccache.Store. The credentials are copies; their byte
// slices are shared and must not be modified.
func (c *Cache) Load(ctx context.Context) (*ccache.Cache, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.principal == nil {
		return nil, notFound(c)
	}
	out := &ccache.Cache{Version: 4, Principal: *c.principal, Credentials: make([]*ccache.Credential, len(c.creds))}
	for i, cr := range c.creds {
		cp := *cr
		out.Credentials[i] = &cp
	}
	return out, nil
}

// Add implements ccache.Store.
func (c *Cache) Add(ctx context.Context, cred *ccache.Credential) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.principal == nil {
		return notFound(c)
	}
	if err := ccache.CheckPrincipal(c.Name(), *c.principal, cred); err != nil {
		return err
	}
	cp := *cred
	c.creds = append(c.creds, &cp)
	return nil
}

// Initialize implements ccache.Store.
func (c *Cache) Initialize(ctx context.Context, principal ccache.Principal, creds []*ccache.Credential) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := principal
	c.principal = &p
	c.creds = c.creds[:0:0]
	for _, cr := range creds {
		cp := *cr
		c.creds = append(c.creds, &cp)
	}
	c.creds = slices.Clip(c.creds)
	return nil
}

func notFound(c *Cache) error {
	return &ccache.NotFoundError{Cache: c.Name(), Reason: "memory cache not initialized"}
}
