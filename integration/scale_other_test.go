//go:build !linux

package integration

import "os"

// peakRSS is measured on Linux only.
func peakRSS(*os.ProcessState) (int64, bool) { return 0, false }
