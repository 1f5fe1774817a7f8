package file_test

import "golang.org/x/sys/unix"

func limitFileSize(n int64) error {
	return unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: uint64(n), Max: uint64(n)})
}
