package acceptor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// errorSharingViolation is ERROR_SHARING_VIOLATION, which package syscall
// does not name.
const errorSharingViolation = syscall.Errno(32)

// lockFile opens path (created if need be) with no sharing at all, which
// excludes every other opener for as long as the returned file is open;
// Windows closes it when the process dies, so a crash leaves no stale
// lock.
func lockFile(path string) (io.Closer, error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("acceptor: replay cache lock: %w", err)
	}
	h, err := syscall.CreateFile(name, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if errors.Is(err, errorSharingViolation) {
			return nil, fmt.Errorf("%w: %s is locked", ErrReplayCacheLocked, path)
		}
		return nil, fmt.Errorf("acceptor: replay cache lock %s: %w", path, err)
	}
	return os.NewFile(uintptr(h), path), nil
}

// syncDir is a no-op: Windows makes a rename durable with the file system's
// own journal, and directories cannot be opened for syncing.
func syncDir(string) error { return nil }
