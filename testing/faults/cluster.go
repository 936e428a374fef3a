package faults

import (
	"context"
	"syscall"

	"shoplist/cluster/launcher"
)

// Cluster is what faults needs of a launched cluster; *launcher.Cluster is
// one. Its methods are safe for concurrent use.
type Cluster interface {
	// Signal sends SIGKILL, SIGTERM, SIGSTOP or SIGCONT to the child called
	// name (launcher.ServerName, launcher.ProxyName), recording that it was
	// asked to stop or is paused; for SIGKILL and SIGTERM it returns once
	// the child has exited.
	Signal(name string, sig syscall.Signal) error
	// Restart starts the child called name again and returns once the
	// cluster has it back.
	Restart(ctx context.Context, name string) error
	// Servers and Proxies describe the children, with their current
	// process IDs.
	Servers() []launcher.ServerInfo
	Proxies() []launcher.ProxyInfo
}
