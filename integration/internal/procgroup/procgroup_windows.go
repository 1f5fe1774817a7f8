package procgroup

import (
	"os/exec"
	"syscall"
)

// Set makes cmd start in a new process group, which keeps console
// interrupts meant for the test binary away from it.
func Set(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= syscall.CREATE_NEW_PROCESS_GROUP
}

// Signal ends the process for SIGKILL, SIGTERM and SIGINT, the only
// signals the servers send to stop a child; Windows cannot deliver
// others.
func Signal(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT:
		_ = cmd.Process.Kill()
	}
}
