package faults

import (
	"context"
	"syscall"

	"shoplist/cluster/launcher"
)

// KillProxy sends SIGKILL to proxy i and waits for it to die.
func KillProxy(c Cluster, i int) error {
	return c.Signal(launcher.ProxyName(i), syscall.SIGKILL)
}

// StopProxy asks proxy i to shut down cleanly (SIGTERM) and waits for it;
// the launcher sends SIGKILL after its grace period.
func StopProxy(c Cluster, i int) error {
	return c.Signal(launcher.ProxyName(i), syscall.SIGTERM)
}

// StartProxy starts proxy i again on the addresses it had, after
// KillProxy, StopProxy or an unexpected exit, and waits until it is bound
// (it has rejoined the Raft group and has the committed ring) and every
// running server has reconnected to it on its own and been welcomed.
func StartProxy(ctx context.Context, c Cluster, i int) error {
	return c.Restart(ctx, launcher.ProxyName(i))
}

// PauseProxy stops proxy i with SIGSTOP, as a hung process: it keeps its
// sockets but answers nothing until ResumeProxy. It returns once every
// thread of it is stopped.
func PauseProxy(c Cluster, i int) error {
	name := launcher.ProxyName(i)
	if err := c.Signal(name, syscall.SIGSTOP); err != nil {
		return err
	}
	return waitStopped(name, func() (int, bool) {
		for _, p := range c.Proxies() {
			if p.Index == i {
				return p.PID, p.Running
			}
		}
		return 0, false
	})
}

// ResumeProxy lets a paused proxy i run again (SIGCONT).
func ResumeProxy(c Cluster, i int) error {
	return c.Signal(launcher.ProxyName(i), syscall.SIGCONT)
}
