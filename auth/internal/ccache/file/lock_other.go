//go:build !unix

package file

import "os"

// MIT takes no file lock on Windows (its krb5_lock_file is a no-op there);
// the in-process lock per path still keeps this process's goroutines
// apart.
func needInProcessLock() bool { return true }

func tryLockFile(*os.File, bool) (bool, error) { return true, nil }

func unlockFile(*os.File) error { return nil }
