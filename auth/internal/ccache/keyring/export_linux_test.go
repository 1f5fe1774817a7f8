package keyring

import "context"

// DestroyCollection removes a collection, so that a test leaves nothing
// behind.
func DestroyCollection(ctx context.Context, c *Collection) error { return c.Destroy(ctx) }

// AddRawKey puts a key of type user with any payload into cache c, as
// something other than a credential cache might.
func AddRawKey(ctx context.Context, c *Cache, desc string, payload []byte) error {
	return onThread(ctx, func() error {
		k, err := c.find()
		if err != nil {
			return err
		}
		_, err = addKey(typeUser, desc, payload, k.cache)
		return err
	})
}

// SetRawIndex overwrites the collection's primary index key.
func SetRawIndex(ctx context.Context, c *Collection, payload []byte) error {
	return onThread(ctx, func() error {
		coll, err := collection(c.name)
		if err != nil {
			return err
		}
		_, err = addKey(typeUser, keyPrimary, payload, coll)
		return err
	})
}
