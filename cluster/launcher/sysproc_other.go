//go:build !linux

package launcher

import "syscall"

// sysProcAttr returns nil: outside Linux children stay in the launcher's
// process group and get a terminal's Ctrl-C directly.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// processStopped reports true: outside Linux there is no /proc to look in,
// and SIGSTOP is taken to act at once.
func processStopped(int) bool { return true }
