//go:build !linux

package kdctest

import "syscall"

// sssd_kcm and mount namespaces are Linux-only; NewKCM fails before these
// are used.
func ownGroupDyingWithParent() *syscall.SysProcAttr { return nil }

func killGroup(int, bool) {}
