//go:build unix

package file

import (
	"errors"

	"golang.org/x/sys/unix"
)

// lockResult reads the result of a non-blocking fcntl lock: EAGAIN and
// EACCES mean someone else holds a conflicting lock.
func lockResult(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES), errors.Is(err, unix.EINTR):
		return false, nil
	}
	return false, err
}
