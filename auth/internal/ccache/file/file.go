package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// MaxSize bounds how much of a cache file is read: real caches are a few
// kilobytes, and the bound keeps a wrong path (a device, a huge file) from
// costing memory.
const MaxSize = 16 << 20

// DefaultLockTimeout bounds the wait for a file lock when the context has
// no deadline. MIT holds its locks for one read or one write.
const DefaultLockTimeout = 10 * time.Second

// Cache is one cache file. It holds no open file between calls and is safe
// for concurrent use.
type Cache struct {
	path string
	name string // "FILE:path", or "DIR::path" for a cache of a collection
}

var _ ccache.Store = (*Cache)(nil)

// Open returns the cache file at path (without the "FILE:" prefix). Nothing
// is read until it is used.
func Open(path string) *Cache { return &Cache{path: path, name: "FILE:" + path} }

// Name implements ccache.Store.
func (c *Cache) Name() string { return c.name }

// Path returns the file's path.
func (c *Cache) Path() string { return c.path }

// Load implements ccache.Store: the whole file, read under a shared lock.
func (c *Cache) Load(ctx context.Context) (*ccache.Cache, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, c.openError(err)
	}
	defer f.Close()
	unlock, err := lock(ctx, f, false)
	if err != nil {
		return nil, c.lockError(err)
	}
	b, err := readAll(f)
	unlock()
	if err != nil {
		return nil, c.readError(err)
	}
	if len(b) == 0 {
		return nil, &ccache.NotFoundError{Cache: c.Name(), Reason: "empty file"}
	}
	cc, err := ccache.Parse(b)
	if err != nil {
		return nil, &Error{Op: "read", Path: c.path, Err: err}
	}
	return cc, nil
}

// Add implements ccache.Store: cred is appended with one write, in the
// file's format version, under an exclusive lock (MIT's fcc_store). The file
// must exist and belong to cred's client.
func (c *Cache) Add(ctx context.Context, cred *ccache.Credential) error {
	f, err := os.OpenFile(c.path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return c.openError(err)
	}
	defer f.Close()
	unlock, err := lock(ctx, f, true)
	if err != nil {
		return c.lockError(err)
	}
	defer unlock()
	fi, err := f.Stat()
	if err != nil {
		return c.readError(err)
	}
	if fi.Size() == 0 {
		return &ccache.NotFoundError{Cache: c.Name(), Reason: "empty file"}
	}
	h, err := readHeader(f, fi.Size())
	if err != nil {
		return &Error{Op: "append to", Path: c.path, Err: err}
	}
	if err := ccache.CheckPrincipal(c.Name(), h.Principal, cred); err != nil {
		return err
	}
	rec := ccache.AppendCredential(nil, cred, h.Version)
	n, err := f.Write(rec)
	if err == nil && n != len(rec) {
		err = io.ErrShortWrite
	}
	if err != nil {
		// Leave the file as it was: a partial credential at the end
		// would make MIT fail to read every credential after it.
		if terr := f.Truncate(fi.Size()); terr != nil {
			err = errors.Join(err, fmt.Errorf("cutting back the partial write: %w", terr))
		}
		return &Error{Op: "append to", Path: c.path, Err: err}
	}
	return nil
}

// Initialize implements ccache.Store: a new file, written next to the old
// one and renamed over it (MIT's fcc_replace), readable by the owner only.
// The version is 4, as MIT writes by default.
func (c *Cache) Initialize(ctx context.Context, principal ccache.Principal, creds []*ccache.Credential) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return writeAtomic(c.path, ccache.Marshal(&ccache.Cache{Version: 4, Principal: principal, Credentials: creds}))
}

// writeAtomic replaces path with data through a temporary file in the same
// directory (os.CreateTemp makes it 0600).
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return &Error{Op: "write", Path: path, Err: err}
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return &Error{Op: "write", Path: path, Err: err}
	}
	if err := tmp.Close(); err != nil {
		return &Error{Op: "write", Path: path, Err: err}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return &Error{Op: "write", Path: path, Err: err}
	}
	return nil
}

// readHeader reads the start of the file until the header and default
// principal parse: a write-back need not read every credential.
func readHeader(f *os.File, size int64) (ccache.Header, error) {
	n := int64(512)
	for {
		n = min(n, size, MaxSize)
		b := make([]byte, n)
		if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
			return ccache.Header{}, err
		}
		h, err := ccache.ParseHeader(b)
		if err == nil || n == size || n == MaxSize {
			return h, err
		}
		n *= 8
	}
}

func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes, not a credential cache: %w", MaxSize, ccache.ErrMalformed)
	}
	return b, nil
}

func (c *Cache) openError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &ccache.NotFoundError{Cache: c.Name(), Reason: "no such file", Err: err}
	}
	return &Error{Op: "open", Path: c.path, Err: err}
}

func (c *Cache) lockError(err error) error { return &Error{Op: "lock", Path: c.path, Err: err} }
func (c *Cache) readError(err error) error { return &Error{Op: "read", Path: c.path, Err: err} }

// Error is a failure reading or writing a cache file; Err is the cause
// (an *fs.PathError, a *ccache.FormatError, a context error, ErrLocked).
type Error struct {
	Op   string // "open", "lock", "read", "append to", "write"
	Path string
	Err  error
}

func (e *Error) Error() string { return "ccache: " + e.Op + " " + e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrLocked: another process kept the file locked for longer than the
// context (or DefaultLockTimeout) allowed.
var ErrLocked = errors.New("cache file stayed locked")
