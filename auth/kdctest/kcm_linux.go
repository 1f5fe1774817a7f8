package kdctest

import "syscall"

// ownGroupDyingWithParent puts the daemon's shell in a process group of
// its own (so Close can stop the shell and sssd_kcm together) and has the
// kernel kill it if this process dies first.
func ownGroupDyingWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}
