//go:build !linux

package file_test

import "errors"

func limitFileSize(int64) error { return errors.New("no RLIMIT_FSIZE here") }
