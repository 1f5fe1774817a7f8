package acceptor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// Errors of [OpenFileReplayStore].
var (
	// ErrReplayCacheLocked: another process has the replay cache file
	// open. A file belongs to one process at a time; processes that must
	// share a replay cache share a Redis store instead.
	ErrReplayCacheLocked = errors.New("acceptor: replay cache file in use by another process")
	// ErrReplayCacheCorrupt: the file is not a replay cache, or records in
	// its middle fail their checksum (damage a crash cannot cause: only a
	// record being appended can be torn, and such a tail is dropped).
	// Nothing is guessed: the operator decides, knowing that removing the
	// file lets the authenticators accepted within the last clock-skew
	// window be replayed once.
	ErrReplayCacheCorrupt = errors.New("acceptor: replay cache file corrupt")
)

// The file: a 32-byte header, then 32-byte records appended one write
// each: the key (16 bytes), the expiry in Unix milliseconds (8, big
// endian), 4 zero bytes, and a CRC-32C of those 28 bytes (4, big endian).
// Records never straddle a 512-byte sector, so a crash tears at most the
// record being appended.
const (
	rcHeader     = "krbhttp replay cache v1\n"
	rcRecordSize = 32
	rcHeaderSize = rcRecordSize
	// Compaction rewrites the file once it holds this many records more
	// than twice the live entries, so the file stays under about
	// (2*bound + rcCompactSlack) records.
	rcCompactSlack = 4096
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// FileReplayStore is a replay store that survives restarts, as MIT's
// acceptor keeps its replay cache in a file (KRB5RCACHEDIR): entries are
// held in a [MemoryReplayStore] (same bound, same fail-closed behaviour)
// and appended to a file, which is read back when the store is opened.
//
// Durability: each entry is written to the file (one write(2), no fsync)
// before Remember returns, so an authenticator the acceptor accepted is in
// the file even if the process is killed at once afterwards. A crash of
// the operating system or a power failure may lose the entries the kernel
// had not yet written to disk (on Linux, usually the last few seconds):
// those authenticators could be replayed after the reboot while still
// inside their window. A record torn by such a crash fails its checksum
// and is dropped when the file is opened again.
//
// The file is rewritten without its expired entries (to a temporary file,
// synced, then renamed over it, so it is never left half-written) once it
// holds about twice as many records as live entries; its size stays below
// about 32 bytes times (twice the bound plus 4096). One process at a time
// has a file open (a lock on PATH.lock, released by the system when the
// process dies): a second one gets [ErrReplayCacheLocked].
type FileReplayStore struct {
	path string
	mem  *MemoryReplayStore
	lock io.Closer

	mu      sync.Mutex
	f       *os.File // guarded by mu; nil when closed or not reopened
	records int64    // guarded by mu; records in the file
	closed  bool     // guarded by mu
}

// ReplayCacheFile returns the file [WithReplayCacheDir] uses in dir: ""
// means KRB5RCACHEDIR, else MIT's default directory (/var/tmp on Unix, the
// temporary directory on Windows); the name carries the effective user ID,
// as MIT's krb5_EUID.rcache2 does. For [OpenFileReplayStore], when one
// store serves several Authenticators.
func ReplayCacheFile(dir string) string {
	if dir == "" {
		dir = os.Getenv("KRB5RCACHEDIR")
	}
	if dir == "" {
		dir = "/var/tmp"
		if runtime.GOOS == "windows" {
			dir = os.TempDir()
		}
	}
	name := "krbhttp.rcache"
	if uid := os.Geteuid(); uid >= 0 {
		name = fmt.Sprintf("krbhttp_%d.rcache", uid)
	}
	return filepath.Join(dir, name)
}

// OpenFileReplayStore opens (or creates, mode 0600) the replay cache file
// at path, bounded to max entries (max <= 0: [DefaultReplayCacheSize]),
// and loads the entries that have not expired. Close releases it.
func OpenFileReplayStore(path string, max int) (*FileReplayStore, error) {
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	s := &FileReplayStore{path: path, mem: NewMemoryReplayStore(max), lock: lock}
	if err := s.load(time.Now()); err != nil {
		_ = lock.Close()
		return nil, err
	}
	return s, nil
}

// load reads the file into memory, drops a torn tail, compacts the file
// when it is mostly expired entries, and opens it for appending.
func (s *FileReplayStore) load(now time.Time) error {
	_ = os.Remove(s.path + ".tmp") // a compaction that did not finish
	data, err := os.ReadFile(s.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("acceptor: replay cache: %w", err)
	}
	if len(data) == 0 {
		return s.rewrite(now)
	}
	if len(data) < rcHeaderSize || !bytes.Equal(data[:rcHeaderSize], header()) {
		return fmt.Errorf("%w: %s: no replay cache header", ErrReplayCacheCorrupt, s.path)
	}
	nowMs := now.UnixMilli()
	good := int64(rcHeaderSize)
	var records int64
	for off := good; off < int64(len(data)); off += rcRecordSize {
		key, expires, ok := decodeRecord(data[off:])
		if !ok {
			if !allTorn(data[off:]) {
				return fmt.Errorf("%w: %s: bad record at offset %d followed by good ones", ErrReplayCacheCorrupt, s.path, off)
			}
			break
		}
		good = off + rcRecordSize
		records++
		if expires >= nowMs {
			s.mem.load(key, expires)
		}
	}
	s.mem.expireAll(nowMs)
	if records > 2*int64(s.mem.Len())+rcCompactSlack {
		return s.rewrite(now)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("acceptor: replay cache: %w", err)
	}
	if good < int64(len(data)) {
		// The tail a crash tore: drop it, so appends start on a record
		// boundary.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return fmt.Errorf("acceptor: replay cache: dropping a torn record: %w", err)
		}
	}
	s.f, s.records = f, records
	return nil
}

// allTorn reports whether every record in b fails its checksum (or is
// incomplete): the signature of a crash during appends, not of damage.
func allTorn(b []byte) bool {
	for off := 0; off < len(b); off += rcRecordSize {
		if _, _, ok := decodeRecord(b[off:]); ok {
			return false
		}
	}
	return true
}

// header is rcHeader padded with zeros to a record's size.
func header() []byte {
	h := make([]byte, rcHeaderSize)
	copy(h, rcHeader)
	return h
}

func encodeRecord(b []byte, key gss.ReplayKey, expires int64) []byte {
	var r [rcRecordSize]byte
	copy(r[:16], key[:])
	binary.BigEndian.PutUint64(r[16:24], uint64(expires))
	binary.BigEndian.PutUint32(r[28:], crc32.Checksum(r[:28], crc32c))
	return append(b, r[:]...)
}

func decodeRecord(b []byte) (key gss.ReplayKey, expires int64, ok bool) {
	if len(b) < rcRecordSize {
		return key, 0, false
	}
	r := b[:rcRecordSize]
	if binary.BigEndian.Uint32(r[28:]) != crc32.Checksum(r[:28], crc32c) || binary.BigEndian.Uint32(r[24:28]) != 0 {
		return key, 0, false
	}
	copy(key[:], r[:16])
	return key, int64(binary.BigEndian.Uint64(r[16:24])), true
}

// Remember implements [ReplayStore]: the entry is in memory and written to
// the file before it returns nil. A write that fails refuses the
// authentication ([ErrReplayStoreUnavailable]); the entry stays in memory.
func (s *FileReplayStore) Remember(_ context.Context, key gss.ReplayKey, now, expires time.Time) error {
	exp := ceilMilli(expires)
	if err := s.mem.remember(key, now.UnixMilli(), exp); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: %s is closed", ErrReplayStoreUnavailable, s.path)
	}
	if s.f == nil {
		return fmt.Errorf("%w: %s could not be reopened after compaction", ErrReplayStoreUnavailable, s.path)
	}
	if _, err := s.f.Write(encodeRecord(nil, key, exp)); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrReplayStoreUnavailable, s.path, err)
	}
	s.records++
	if s.records > 2*int64(s.mem.Len())+rcCompactSlack {
		s.mem.expireAll(now.UnixMilli())
		if err := s.rewrite(now); err != nil {
			return fmt.Errorf("%w: %v", ErrReplayStoreUnavailable, err)
		}
	}
	return nil
}

// rewrite replaces the file by one holding the live entries: written to
// PATH.tmp, synced, renamed over PATH, the directory synced. Called with
// mu held (or before the store is shared). Entries remembered meanwhile
// by other goroutines wait on mu and are appended to the new file after,
// or are in both the snapshot and the appends, which loading tolerates.
func (s *FileReplayStore) rewrite(now time.Time) error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("acceptor: replay cache: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	_, _ = w.Write(header())
	var records int64
	var rec []byte
	s.mem.each(func(e memEntry) {
		rec = encodeRecord(rec[:0], e.key, e.expires)
		_, _ = w.Write(rec)
		records++
	})
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("acceptor: replay cache: compacting %s: %w", s.path, err)
	}
	// Windows cannot rename over a file that is open.
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		_ = syncDir(filepath.Dir(s.path))
	} else {
		os.Remove(tmp)
	}
	// Reopened either way: after a failed rename the old file is intact.
	f, err = os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("acceptor: replay cache: %w", err)
	}
	s.f = f
	if renameErr != nil {
		return fmt.Errorf("acceptor: replay cache: compacting %s: %w", s.path, renameErr)
	}
	s.records = records
	return nil
}

// Len returns the number of entries held, as [MemoryReplayStore.Len].
func (s *FileReplayStore) Len() int { return s.mem.Len() }

// Path returns the file's path.
func (s *FileReplayStore) Path() string { return s.path }

// Close closes the file and releases its lock; Remember then fails with
// [ErrReplayStoreUnavailable].
func (s *FileReplayStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	return err
}
