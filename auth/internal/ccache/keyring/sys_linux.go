package keyring

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// maxPayload bounds a key read: big_key payloads are at most 1 MiB, and a
// keyring lists at most a few thousand keys.
const maxPayload = 4 << 20

// worker is the one OS thread every keyring call runs on (see the package
// documentation): process and thread keyrings are per-thread credentials
// in Linux, so a goroutine moving between threads would see different
// ones.
var worker struct {
	once sync.Once
	jobs chan func()
}

// onThread runs f on the keyring thread. The keyctl calls f makes do not
// block, so once started f runs to its end; ctx is checked before.
func onThread(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	worker.once.Do(func() {
		worker.jobs = make(chan func())
		go func() {
			// Never unlocked: the thread lives as long as the process,
			// and with it the process and thread keyrings made on it.
			runtime.LockOSThread()
			for job := range worker.jobs {
				job()
			}
		}()
	})
	done := make(chan error, 1)
	select {
	case worker.jobs <- func() { done <- f() }:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-done
}

// Error is a failed keyctl call: Err is the errno.
type Error struct {
	Op  string // "search", "read", "add_key", ...
	Key string // what was being looked at
	Err error
}

func (e *Error) Error() string {
	s := "keyring: " + e.Op + " " + e.Key + ": " + e.Err.Error()
	switch {
	case errors.Is(e.Err, unix.ENOSYS):
		s += " (the kernel has no key retention service)"
	case errors.Is(e.Err, unix.EPERM) && e.Op != "link":
		s += " (a seccomp filter, such as a container runtime's default, may refuse keyctl)"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes missing, expired and revoked keys match ccache.ErrNotFound, and
// a kernel without keys match ccache.ErrUnsupported.
func (e *Error) Is(target error) bool {
	switch target {
	case ccache.ErrNotFound:
		return missing(e.Err)
	case ccache.ErrUnsupported:
		return errors.Is(e.Err, unix.ENOSYS)
	}
	return false
}

func missing(err error) bool {
	return errors.Is(err, unix.ENOKEY) || errors.Is(err, unix.EKEYEXPIRED) || errors.Is(err, unix.EKEYREVOKED)
}

func search(ring int, typ, desc string, dest int) (int, error) {
	id, err := unix.KeyctlSearch(ring, typ, desc, dest)
	if err != nil {
		return 0, &Error{Op: "search", Key: typ + " " + desc, Err: err}
	}
	return id, nil
}

func addKey(typ, desc string, payload []byte, ring int) (int, error) {
	id, err := unix.AddKey(typ, desc, payload, ring)
	if err != nil {
		return 0, &Error{Op: "add_key", Key: typ + " " + desc, Err: err}
	}
	return id, nil
}

// read returns a key's payload (a keyring's: its keys' serials). The size
// is asked first; a key that grew meanwhile is read again, a bounded
// number of times.
func read(id int) ([]byte, error) {
	for range 4 {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, nil, 0)
		if err != nil {
			return nil, &Error{Op: "read", Key: fmt.Sprint("key ", id), Err: err}
		}
		if n > maxPayload {
			return nil, &Error{Op: "read", Key: fmt.Sprint("key ", id), Err: fmt.Errorf("payload of %d bytes: %w", n, ErrBadKey)}
		}
		buf := make([]byte, n)
		m, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, &Error{Op: "read", Key: fmt.Sprint("key ", id), Err: err}
		}
		if m <= n {
			return buf[:m], nil
		}
	}
	return nil, &Error{Op: "read", Key: fmt.Sprint("key ", id), Err: errors.New("payload keeps changing size")}
}

func describe(id int) (string, error) {
	d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return "", &Error{Op: "describe", Key: fmt.Sprint("key ", id), Err: err}
	}
	return d, nil
}

func keyctl(op string, cmd, a, b int) error {
	if _, err := unix.KeyctlInt(cmd, a, b, 0, 0); err != nil {
		return &Error{Op: op, Key: fmt.Sprint("key ", a), Err: err}
	}
	return nil
}

func link(key, ring int) error   { return keyctl("link", unix.KEYCTL_LINK, key, ring) }
func unlink(key, ring int) error { return keyctl("unlink", unix.KEYCTL_UNLINK, key, ring) }
func clearRing(ring int) error   { return keyctl("clear", unix.KEYCTL_CLEAR, ring, 0) }
func setTimeout(key int, seconds int) error {
	return keyctl("set timeout on", unix.KEYCTL_SET_TIMEOUT, key, seconds)
}

// sessionWriteAnchor is the keyring to write to for the session anchor:
// without a session keyring of its own a process reads the user session
// keyring through KEY_SPEC_SESSION_KEYRING, but writing there would give it
// a new, empty session keyring nobody else sees (MIT's
// session_write_anchor).
func sessionWriteAnchor() int {
	s, err1 := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	u, err2 := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_SESSION_KEYRING, false)
	if err1 == nil && err2 == nil && s == u {
		return unix.KEY_SPEC_USER_SESSION_KEYRING
	}
	return unix.KEY_SPEC_SESSION_KEYRING
}
