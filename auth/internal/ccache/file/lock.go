package file

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// lock takes a whole-file lock on f, shared or exclusive, waiting as long
// as ctx allows (DefaultLockTimeout without a deadline). The wait polls a
// non-blocking lock with a growing pause, because a blocking fcntl cannot
// be interrupted when the context ends. It returns the function that
// releases the lock.
func lock(ctx context.Context, f *os.File, exclusive bool) (func(), error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultLockTimeout)
		defer cancel()
	}
	pl := pathLock(f.Name())
	pause := 50 * time.Microsecond
	for {
		if err := ctx.Err(); err != nil {
			return nil, lockWaitError(err)
		}
		if pl.try(exclusive) {
			ok, err := tryLockFile(f, exclusive)
			if err != nil {
				pl.unlock(exclusive)
				return nil, err
			}
			if ok {
				return func() {
					_ = unlockFile(f)
					pl.unlock(exclusive)
				}, nil
			}
			pl.unlock(exclusive)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, lockWaitError(ctx.Err())
		case <-t.C:
		}
		pause = min(pause*2, 5*time.Millisecond)
	}
}

func lockWaitError(err error) error {
	return &lockWait{err}
}

// lockWait matches both ErrLocked and the context's error.
type lockWait struct{ ctxErr error }

func (e *lockWait) Error() string   { return ErrLocked.Error() + ": " + e.ctxErr.Error() }
func (e *lockWait) Unwrap() []error { return []error{ErrLocked, e.ctxErr} }

// inProcess is a lock per path for platforms whose file locks belong to
// the process (POSIX fcntl locks): there, two goroutines would both get
// the file lock. Where file locks are per open file (Linux OFD locks) it
// is not needed, and noInProcess stands in.
type inProcess struct{ mu sync.RWMutex }

func (l *inProcess) try(exclusive bool) bool {
	if l == nil {
		return true
	}
	if exclusive {
		return l.mu.TryLock()
	}
	return l.mu.TryRLock()
}

func (l *inProcess) unlock(exclusive bool) {
	switch {
	case l == nil:
	case exclusive:
		l.mu.Unlock()
	default:
		l.mu.RUnlock()
	}
}

var pathLocks sync.Map // cleaned absolute path -> *inProcess

// pathLock returns the in-process lock for path, or nil where file locks
// already exclude goroutines of one process.
func pathLock(path string) *inProcess {
	if !needInProcessLock() {
		return nil
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	l, _ := pathLocks.LoadOrStore(filepath.Clean(path), &inProcess{})
	return l.(*inProcess)
}
