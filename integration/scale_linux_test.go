package integration

import (
	"os"
	"syscall"
)

// peakRSS returns the peak resident set size in bytes of a process that
// ended.
func peakRSS(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss << 10, true // getrusage(2) counts kilobytes on Linux
}
