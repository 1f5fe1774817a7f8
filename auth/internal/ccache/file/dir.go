package file

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// Dir is a DIR: collection: FILE caches named tkt* in one directory, and
// a file "primary" naming the current one (MIT's cc_dir.c). It is safe for
// concurrent use.
type Dir struct {
	dir string
}

var _ ccache.Collection = (*Dir)(nil)

// OpenDir returns the collection in dir (without the "DIR:" prefix).
func OpenDir(dir string) *Dir { return &Dir{dir: dir} }

// OpenDirCache returns one cache of a collection, as "DIR::path" names it.
func OpenDirCache(path string) *Cache { return &Cache{path: path, name: "DIR::" + path} }

// Name implements ccache.Collection.
func (d *Dir) Name() string { return "DIR:" + d.dir }

// Path returns the collection's directory.
func (d *Dir) Path() string { return d.dir }

// Primary implements ccache.Collection: the file "primary" names, or tkt.
func (d *Dir) Primary(ctx context.Context) (ccache.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := ccache.PrimaryFile(d.dir)
	if err != nil {
		return nil, d.error(err)
	}
	return OpenDirCache(p), nil
}

// Caches implements ccache.Collection: the tkt* files that hold a cache,
// the primary first.
func (d *Dir) Caches(ctx context.Context) ([]ccache.Store, error) {
	files, err := ccache.CollectionFiles(d.dir)
	if err != nil {
		return nil, d.error(err)
	}
	var out []ccache.Store
	for _, f := range files {
		c := OpenDirCache(f)
		if _, err := c.principal(ctx); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// principal reads the cache's header only.
func (c *Cache) principal(ctx context.Context) (ccache.Principal, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return ccache.Principal{}, c.openError(err)
	}
	defer f.Close()
	unlock, err := lock(ctx, f, false)
	if err != nil {
		return ccache.Principal{}, c.lockError(err)
	}
	defer unlock()
	fi, err := f.Stat()
	if err != nil {
		return ccache.Principal{}, c.readError(err)
	}
	h, err := readHeader(f, fi.Size())
	if err != nil {
		return ccache.Principal{}, &Error{Op: "read", Path: c.path, Err: err}
	}
	return h.Principal, nil
}

// New implements ccache.Collection: an empty tkt* file, made as MIT's
// dcc_gen_new makes it (the directory is created if missing).
func (d *Dir) New(ctx context.Context) (ccache.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, &Error{Op: "create", Path: d.dir, Err: err}
	}
	f, err := os.CreateTemp(d.dir, "tkt")
	if err != nil {
		return nil, &Error{Op: "create", Path: d.dir, Err: err}
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return nil, &Error{Op: "create", Path: name, Err: err}
	}
	return OpenDirCache(name), nil
}

// SetPrimary implements ccache.Collection: "primary" is rewritten (a new
// file renamed over it) to name s, as kswitch does.
func (d *Dir) SetPrimary(ctx context.Context, s ccache.Store) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, ok := s.(*Cache)
	if !ok || filepath.Dir(c.path) != filepath.Clean(d.dir) {
		return &ccache.NotFoundError{Cache: s.Name(), Reason: "not a cache of " + d.Name()}
	}
	return writeAtomic(filepath.Join(d.dir, "primary"), []byte(filepath.Base(c.path)+"\n"))
}

func (d *Dir) error(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &ccache.NotFoundError{Cache: d.Name(), Reason: "no such directory", Err: err}
	}
	return &Error{Op: "read", Path: d.dir, Err: err}
}
