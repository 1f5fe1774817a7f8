package file

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ofdUnsupported is set when the kernel refused an OFD lock (older than
// 3.15): MIT then falls back to process-owned POSIX locks, and so do we.
var ofdUnsupported atomic.Bool

func needInProcessLock() bool { return ofdUnsupported.Load() }

func tryLockFile(f *os.File, exclusive bool) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: 0, Len: 0}
	if exclusive {
		lk.Type = unix.F_WRLCK
	}
	cmd := unix.F_OFD_SETLK
	if ofdUnsupported.Load() {
		cmd = unix.F_SETLK
	}
	err := unix.FcntlFlock(f.Fd(), cmd, &lk)
	if errors.Is(err, unix.EINVAL) && cmd == unix.F_OFD_SETLK {
		ofdUnsupported.Store(true)
		return false, nil // try again, with the in-process lock
	}
	return lockResult(err)
}

func unlockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK}
	cmd := unix.F_OFD_SETLK
	if ofdUnsupported.Load() {
		cmd = unix.F_SETLK
	}
	return unix.FcntlFlock(f.Fd(), cmd, &lk)
}
