package faults

import (
	"context"
	"syscall"

	"shoplist/cluster/launcher"
)

// KillServer sends SIGKILL to server id, as a crash would, and waits for it
// to die.
func KillServer(c Cluster, id string) error {
	return c.Signal(launcher.ServerName(id), syscall.SIGKILL)
}

// StopServer asks server id to shut down cleanly (SIGTERM) and waits for
// it; the launcher sends SIGKILL after its grace period.
func StopServer(c Cluster, id string) error {
	return c.Signal(launcher.ServerName(id), syscall.SIGTERM)
}

// StartServer starts server id again, with its ID and data directory, after
// KillServer, StopServer or an unexpected exit, and waits until every
// running proxy has welcomed it back into the ring.
func StartServer(ctx context.Context, c Cluster, id string) error {
	return c.Restart(ctx, launcher.ServerName(id))
}

// PauseServer stops server id with SIGSTOP, as a hung process: it keeps
// its connections but answers nothing until ResumeServer. It returns once
// every thread of it is stopped.
func PauseServer(c Cluster, id string) error {
	if err := c.Signal(launcher.ServerName(id), syscall.SIGSTOP); err != nil {
		return err
	}
	return waitStopped(id, func() (int, bool) {
		for _, s := range c.Servers() {
			if s.ID == id {
				return s.PID, s.Running
			}
		}
		return 0, false
	})
}

// ResumeServer lets a paused server id run again (SIGCONT).
func ResumeServer(c Cluster, id string) error {
	return c.Signal(launcher.ServerName(id), syscall.SIGCONT)
}
