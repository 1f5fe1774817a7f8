//go:build !linux

package keyring

import (
	"context"
	"errors"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

var errNotLinux = errors.Join(errors.New("keyring: KEYRING: caches live in the Linux kernel's key retention service"), ccache.ErrUnsupported)

// Load implements ccache.Store.
func (c *Cache) Load(context.Context) (*ccache.Cache, error) { return nil, errNotLinux }

// Add implements ccache.Store.
func (c *Cache) Add(context.Context, *ccache.Credential) error { return errNotLinux }

// Initialize implements ccache.Store.
func (c *Cache) Initialize(context.Context, ccache.Principal, []*ccache.Credential) error {
	return errNotLinux
}

// Destroy removes the cache, as kdestroy does.
func (c *Cache) Destroy(context.Context) error { return errNotLinux }

// Primary implements ccache.Collection.
func (c *Collection) Primary(context.Context) (ccache.Store, error) { return nil, errNotLinux }

// Caches implements ccache.Collection.
func (c *Collection) Caches(context.Context) ([]ccache.Store, error) { return nil, errNotLinux }

// New implements ccache.Collection.
func (c *Collection) New(context.Context) (ccache.Store, error) { return nil, errNotLinux }

// SetPrimary implements ccache.Collection.
func (c *Collection) SetPrimary(context.Context, ccache.Store) error { return errNotLinux }

// Destroy removes the collection and its caches.
func (c *Collection) Destroy(context.Context) error { return errNotLinux }
