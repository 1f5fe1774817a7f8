package keyring

import (
	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// Cache is one cache of a keyring collection, a ccache.Store.
type Cache struct{ name Name }

// Collection is a keyring collection ("KEYRING:session:x"), a
// ccache.Collection.
type Collection struct{ name Name }

var (
	_ ccache.Store      = (*Cache)(nil)
	_ ccache.Collection = (*Collection)(nil)
)

// NewCollection returns the collection n names (its subsidiary, if any,
// is ignored). Nothing is created until it is used.
func NewCollection(n Name) *Collection {
	n.Subsidiary, n.HasSubsidiary = "", false
	return &Collection{name: n}
}

// NewCache returns the cache n names, which must have a subsidiary (use
// Collection.Primary for a collection name, as MIT resolves it).
func NewCache(n Name) *Cache {
	n.HasSubsidiary = true
	return &Cache{name: n}
}

// Name implements ccache.Store: "KEYRING:anchor:collection:subsidiary".
func (c *Cache) Name() string { return c.name.String() }

// Name implements ccache.Collection: "KEYRING:anchor:collection".
func (c *Collection) Name() string { return c.name.CollectionName() }
