package acceptor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
)

var bg = context.Background()

// rkey is a replay key derived from i, spread as real keys are.
func rkey(i int) gss.ReplayKey {
	sum := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
	return gss.ReplayKey(sum[:16])
}

var t0 = time.Unix(1_700_000_000, 0)

// stores returns a fresh store of each kind bounded to max, the file one in
// a new directory.
func stores(t *testing.T, max int) map[string]acceptor.ReplayStore {
	t.Helper()
	fs, err := acceptor.OpenFileReplayStore(filepath.Join(t.TempDir(), "rcache"), max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return map[string]acceptor.ReplayStore{"memory": acceptor.NewMemoryReplayStore(max), "file": fs}
}

// TestStoreKeepsEntriesForTheirWindow: an entry is refused as a replay up
// to and including its expiry instant, and forgotten after it.
func TestStoreKeepsEntriesForTheirWindow(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t, 10) {
		t.Run(name, func(t *testing.T) {
			exp := t0.Add(10 * time.Minute)
			if err := s.Remember(bg, rkey(1), t0, exp); err != nil {
				t.Fatal(err)
			}
			for _, now := range []time.Time{t0, t0.Add(5 * time.Minute), exp} {
				if err := s.Remember(bg, rkey(1), now, now.Add(time.Minute)); !errors.Is(err, gss.ErrReplay) {
					t.Fatalf("at %v: %v, want ErrReplay", now.Sub(t0), err)
				}
			}
			if err := s.Remember(bg, rkey(1), exp.Add(time.Millisecond), exp.Add(time.Minute)); err != nil {
				t.Fatalf("after its window: %v", err)
			}
		})
	}
}

// TestStoreFailsClosedWhenFull: at the bound, nothing live is forgotten: a
// new key is refused with ErrReplayCacheFull, a replay is still a replay,
// and room comes back as entries expire, including entries of keys no
// request touched since.
func TestStoreFailsClosedWhenFull(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t, 100) {
		t.Run(name, func(t *testing.T) {
			for i := range 100 {
				// The first 50 expire after one minute, the rest after ten.
				exp := t0.Add(time.Minute)
				if i >= 50 {
					exp = t0.Add(10 * time.Minute)
				}
				if err := s.Remember(bg, rkey(i), t0, exp); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
			}
			err := s.Remember(bg, rkey(1000), t0.Add(time.Second), t0.Add(time.Hour))
			if !errors.Is(err, acceptor.ErrReplayCacheFull) || errors.Is(err, gss.ErrReplay) {
				t.Fatalf("new key when full: %v, want ErrReplayCacheFull", err)
			}
			for _, i := range []int{0, 99} {
				if err := s.Remember(bg, rkey(i), t0.Add(time.Second), t0.Add(time.Hour)); !errors.Is(err, gss.ErrReplay) {
					t.Fatalf("replay of %d when full: %v, want ErrReplay", i, err)
				}
			}
			// Two minutes on, the first 50 have expired: exactly 50 new
			// keys fit, whichever shards they land in.
			later := t0.Add(2 * time.Minute)
			for i := 1000; i < 1050; i++ {
				if err := s.Remember(bg, rkey(i), later, later.Add(time.Hour)); err != nil {
					t.Fatalf("new key %d after expiry: %v", i, err)
				}
			}
			if err := s.Remember(bg, rkey(2000), later, later.Add(time.Hour)); !errors.Is(err, acceptor.ErrReplayCacheFull) {
				t.Fatalf("51st new key: %v, want ErrReplayCacheFull", err)
			}
			for i := 50; i < 100; i++ {
				if err := s.Remember(bg, rkey(i), later, later.Add(time.Hour)); !errors.Is(err, gss.ErrReplay) {
					t.Fatalf("live entry %d forgotten: %v", i, err)
				}
			}
		})
	}
}

// TestStoreClockBackwards: a clock stepped back keeps entries longer,
// never shorter.
func TestStoreClockBackwards(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t, 10) {
		t.Run(name, func(t *testing.T) {
			if err := s.Remember(bg, rkey(1), t0, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			back := t0.Add(-time.Hour)
			if err := s.Remember(bg, rkey(1), back, back.Add(time.Minute)); !errors.Is(err, gss.ErrReplay) {
				t.Fatalf("clock an hour back: %v, want ErrReplay", err)
			}
		})
	}
}

// TestStoreConcurrentExactlyOneWins: of many concurrent calls with one key
// exactly one succeeds.
func TestStoreConcurrentExactlyOneWins(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t, 10_000) {
		t.Run(name, func(t *testing.T) {
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for i := range 500 {
						err := s.Remember(bg, rkey(i), t0, t0.Add(time.Minute))
						switch {
						case err == nil:
							wins.Add(1)
						case !errors.Is(err, gss.ErrReplay):
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if wins.Load() != 500 {
				t.Fatalf("%d keys won, want 500", wins.Load())
			}
		})
	}
}

// TestFileStoreSurvivesRestart: entries come back after Close and a new
// open, also after a crash that skipped Close; expired ones do not.
func TestFileStoreSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rcache")
	s, err := acceptor.OpenFileReplayStore(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(bg, rkey(2), now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Remember(bg, rkey(3), now, now.Add(time.Hour)); !errors.Is(err, acceptor.ErrReplayStoreUnavailable) {
		t.Fatalf("after Close: %v, want ErrReplayStoreUnavailable", err)
	}
	s, err = acceptor.OpenFileReplayStore(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 1 {
		t.Fatalf("%d entries loaded, want the one live entry", s.Len())
	}
	if err := s.Remember(bg, rkey(1), now, now.Add(time.Hour)); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("after a restart: %v, want ErrReplay", err)
	}
	if err := s.Remember(bg, rkey(2), now, now.Add(time.Hour)); err != nil {
		t.Fatalf("expired entry came back: %v", err)
	}
}

// TestFileStoreLocked: one process (here: one open store) at a time.
func TestFileStoreLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rcache")
	s, err := acceptor.OpenFileReplayStore(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acceptor.OpenFileReplayStore(path, 10); !errors.Is(err, acceptor.ErrReplayCacheLocked) {
		t.Fatalf("second open: %v, want ErrReplayCacheLocked", err)
	}
	s.Close()
	s, err = acceptor.OpenFileReplayStore(path, 10)
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	s.Close()
}

// TestFileStoreTornTail: a crash while appending leaves part of a record,
// or a record that fails its checksum, at the end: it is dropped and the
// file appended to from the last good record.
func TestFileStoreTornTail(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, tail := range map[string][]byte{
		"partial record": bytes.Repeat([]byte{0xAB}, 13),
		"zeroed record":  make([]byte, 32),
		"zeroed records": make([]byte, 32*3+5),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rcache")
			s, err := acceptor.OpenFileReplayStore(path, 10)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.Remember(bg, rkey(i), now, now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			appendFile(t, path, tail)
			s, err = acceptor.OpenFileReplayStore(path, 10)
			if err != nil {
				t.Fatalf("reopening with a torn tail: %v", err)
			}
			if err := s.Remember(bg, rkey(3), now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			st, _ := os.Stat(path)
			if st.Size() != 32*5 {
				t.Fatalf("file of %d bytes, want the header and 4 records", st.Size())
			}
			s, err = acceptor.OpenFileReplayStore(path, 10)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := range 4 {
				if err := s.Remember(bg, rkey(i), now, now.Add(time.Hour)); !errors.Is(err, gss.ErrReplay) {
					t.Fatalf("entry %d: %v, want ErrReplay", i, err)
				}
			}
		})
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestFileStoreCorrupt: damage that a crash cannot cause (a bad record
// before good ones, a foreign file) is a typed error, and the file is left
// as it was for the operator.
func TestFileStoreCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rcache")
	s, err := acceptor.OpenFileReplayStore(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 3 {
		if err := s.Remember(bg, rkey(i), now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	data, _ := os.ReadFile(path)
	data[32+5] ^= 1 // the first record
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := acceptor.OpenFileReplayStore(path, 10); !errors.Is(err, acceptor.ErrReplayCacheCorrupt) || !strings.Contains(err.Error(), "offset 32") {
		t.Fatalf("bad record in the middle: %v, want ErrReplayCacheCorrupt at offset 32", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Fatal("the corrupt file was changed")
	}
	foreign := filepath.Join(dir, "foreign")
	if err := os.WriteFile(foreign, []byte("#!/bin/sh\necho not a replay cache\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := acceptor.OpenFileReplayStore(foreign, 10); !errors.Is(err, acceptor.ErrReplayCacheCorrupt) {
		t.Fatalf("foreign file: %v, want ErrReplayCacheCorrupt", err)
	}
}

// TestFileStoreCompaction: the file is rewritten as entries expire, stays
// bounded, and keeps every live entry across the rewrites and a reopen.
func TestFileStoreCompaction(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rcache")
	const bound = 1000
	s, err := acceptor.OpenFileReplayStore(path, bound)
	if err != nil {
		t.Fatal(err)
	}
	// 20,000 authenticators over 200 s, each remembered for 10 s: about
	// 1,000 live at any time, twenty times that written.
	start := time.Now()
	var largest int64
	for i := range 20_000 {
		now := start.Add(time.Duration(i) * 10 * time.Millisecond)
		if err := s.Remember(bg, rkey(i), now, now.Add(9*time.Second)); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if st, err := os.Stat(path); err == nil {
			largest = max(largest, st.Size())
		}
	}
	s.Close()
	if limit := int64(32 * (1 + 2*bound + 4096 + 1)); largest > limit {
		t.Fatalf("the file grew to %d bytes, over %d", largest, limit)
	}
	// Reopened at the time of the last insertion: the last 9 s of
	// entries are live, the earlier ones are not.
	s, err = acceptor.OpenFileReplayStore(path, bound)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	end := start.Add(200 * time.Second)
	if err := s.Remember(bg, rkey(19_999), end, end.Add(time.Minute)); !errors.Is(err, gss.ErrReplay) {
		t.Fatalf("newest entry: %v, want ErrReplay", err)
	}
	t.Logf("file at most %d bytes for %d live entries; %d loaded after reopen", largest, bound, s.Len())
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("compaction left %s.tmp behind: %v", path, err)
	}
}

// TestWrapFailsClosed: with the cache full the middleware answers 503 with
// Retry-After and logs at error level, still refuses a replay with 401,
// and accepts again once entries expire.
func TestWrapFailsClosed(t *testing.T) {
	t.Parallel()
	var clock atomic.Pointer[time.Time]
	now := time.Now()
	clock.Store(&now)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	a := newAuthenticator(t, acceptor.WithReplayCacheSize(3), acceptor.WithMaxSkew(time.Minute),
		acceptor.WithLogger(logger), acceptor.WithClock(func() time.Time { return *clock.Load() }))
	var s seen
	h := a.Wrap(s.handler())
	first := ""
	for i := range 3 {
		_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{Now: func() time.Time { return now }})
		if w := serve(h, authz); w.Code != http.StatusOK {
			t.Fatalf("authentication %d: %d", i, w.Code)
		}
		if i == 0 {
			first = authz
		}
	}
	_, fresh := header(t, "Negotiate", "alice", gss.InitiatorConfig{Now: func() time.Time { return now }})
	w := serve(h, fresh)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("full: status %d, headers %v; want 503 with Retry-After and no challenge", w.Code, w.Header())
	}
	if w := serve(h, first); w.Code != http.StatusUnauthorized {
		t.Fatalf("replay when full: %d, want 401", w.Code)
	}
	logMu.Lock()
	logged := logs.String()
	logMu.Unlock()
	if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "replay cache full") {
		t.Fatalf("log:\n%s\nwant an error-level line naming the full replay cache", logged)
	}
	// A minute and a bit later (the skew) the entries have expired; a
	// token made then is accepted.
	later := now.Add(time.Minute + time.Second)
	clock.Store(&later)
	_, fresh = header(t, "Negotiate", "alice", gss.InitiatorConfig{Now: func() time.Time { return later }})
	if w := serve(h, fresh); w.Code != http.StatusOK {
		t.Fatalf("after expiry: %d, want 200", w.Code)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestReplayCacheDirRestart: with WithReplayCacheDir, a token used before
// a restart is refused after it; KRB5RCACHEDIR is the default directory.
func TestReplayCacheDirRestart(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KRB5RCACHEDIR", dir)
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{})
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		a := newAuthenticator(t, acceptor.WithReplayCacheDir(""))
		if i == 0 {
			// A second Authenticator on the same file is refused while
			// the first holds it.
			if _, err := acceptor.New(service().Keytab(), acceptor.WithReplayCacheDir(dir)); !errors.Is(err, acceptor.ErrReplayCacheLocked) {
				t.Fatalf("second Authenticator on the file: %v, want ErrReplayCacheLocked", err)
			}
		}
		var s seen
		if w := serve(a.Wrap(s.handler()), authz); w.Code != want {
			t.Fatalf("run %d: status %d, want %d", i, w.Code, want)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "krbhttp_*.rcache"))
	if len(files) != 1 {
		t.Fatalf("replay cache files in KRB5RCACHEDIR: %v", files)
	}
}

func TestReplayStoreOptionErrors(t *testing.T) {
	t.Parallel()
	kt := service().Keytab()
	store := acceptor.NewMemoryReplayStore(10)
	for name, opts := range map[string][]acceptor.Option{
		"nil store":      {acceptor.WithReplayStore(nil)},
		"store and dir":  {acceptor.WithReplayStore(store), acceptor.WithReplayCacheDir(t.TempDir())},
		"store and size": {acceptor.WithReplayStore(store), acceptor.WithReplayCacheSize(10)},
		"unusable dir":   {acceptor.WithReplayCacheDir("/proc/version/x")},
		"negative size":  {acceptor.WithReplayCacheSize(-1)},
	} {
		if _, err := acceptor.New(kt, opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// failingStore fails every call, as a store that lost its server does.
type failingStore struct{}

func (failingStore) Remember(context.Context, gss.ReplayKey, time.Time, time.Time) error {
	return acceptor.ErrReplayStoreUnavailable
}

// TestWrapStoreUnavailable: a store that cannot be reached gives 503, and
// the handler never runs.
func TestWrapStoreUnavailable(t *testing.T) {
	t.Parallel()
	var s seen
	h := newAuthenticator(t, acceptor.WithReplayStore(failingStore{})).Wrap(s.handler())
	_, authz := header(t, "Negotiate", "alice", gss.InitiatorConfig{})
	if w := serve(h, authz); w.Code != http.StatusServiceUnavailable || s.get() != nil {
		t.Fatalf("status %d, handler saw %v; want 503 and no handler", w.Code, s.get())
	}
}

// FuzzOpenFileReplayStore opens hostile replay cache files: it must open
// them or refuse them with ErrReplayCacheCorrupt, never panic, and an
// opened store must work and keep what it is given across a reopen.
func FuzzOpenFileReplayStore(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed")
	s, err := acceptor.OpenFileReplayStore(seed, 10)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	for i := range 3 {
		if err := s.Remember(bg, rkey(i), now, now.Add(time.Hour)); err != nil {
			f.Fatal(err)
		}
	}
	s.Close()
	valid, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add(append(bytes.Clone(valid), make([]byte, 40)...))
	f.Add(valid[:32])
	f.Add([]byte{})
	f.Add([]byte("krbhttp replay cache v2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "rcache")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := acceptor.OpenFileReplayStore(path, 10)
		if err != nil {
			if !errors.Is(err, acceptor.ErrReplayCacheCorrupt) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		key := rkey(1 << 20)
		err = s.Remember(bg, key, now, now.Add(time.Hour))
		if err != nil && !errors.Is(err, acceptor.ErrReplayCacheFull) && !errors.Is(err, gss.ErrReplay) {
			t.Fatal(err)
		}
		stored := err == nil
		s.Close()
		s, err = acceptor.OpenFileReplayStore(path, 10)
		if err != nil {
			t.Fatalf("reopening what the store wrote: %v", err)
		}
		defer s.Close()
		if err := s.Remember(bg, key, now, now.Add(time.Hour)); stored && !errors.Is(err, gss.ErrReplay) {
			t.Fatalf("entry lost across a reopen: %v", err)
		}
	})
}
