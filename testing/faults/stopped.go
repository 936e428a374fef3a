package faults

import (
	"fmt"
	"time"

	"shoplist/cluster/launcher"
)

// pauseTimeout bounds the wait for a paused process to be stopped.
const pauseTimeout = 5 * time.Second

// waitStopped waits, after SIGSTOP, until every thread of a child's process
// has stopped, so that nothing it does afterwards can be mistaken for an
// answer. proc returns the child's process ID and whether it runs; who
// names the child in errors. The kernel stops the threads asynchronously,
// within microseconds; a process that is gone meanwhile ends the wait with
// launcher.ErrNotRunning.
func waitStopped(who string, proc func() (pid int, running bool)) error {
	pid, running := proc()
	deadline := time.NewTimer(pauseTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !Stopped(pid) {
		if !running {
			return fmt.Errorf("%w: %s", launcher.ErrNotRunning, who)
		}
		select {
		case <-deadline.C:
			return fmt.Errorf("cluster: %s (pid %d) not stopped within %v of SIGSTOP", who, pid, pauseTimeout)
		case <-tick.C:
		}
		now, nowRunning := proc()
		running = nowRunning && now == pid
	}
	return nil
}
