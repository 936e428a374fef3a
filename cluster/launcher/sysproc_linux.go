package launcher

import "syscall"

// sysProcAttr puts a child in its own process group, so that a terminal's
// Ctrl-C reaches only the launcher, which forwards it (a child that saw it
// first would look like a crash), and has the kernel send the child SIGTERM
// if the launcher dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
