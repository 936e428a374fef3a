//go:build !linux

package launcher

import "syscall"

// sysProcAttr returns nil: outside Linux children stay in the launcher's
// process group and get a terminal's Ctrl-C directly.
func sysProcAttr() *syscall.SysProcAttr { return nil }
