//go:build unix && !linux

package file

import (
	"os"

	"golang.org/x/sys/unix"
)

// POSIX record locks belong to the process: the in-process lock per path
// keeps goroutines apart.
func needInProcessLock() bool { return true }

func tryLockFile(f *os.File, exclusive bool) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: 0, Len: 0}
	if exclusive {
		lk.Type = unix.F_WRLCK
	}
	return lockResult(unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk))
}

func unlockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}
