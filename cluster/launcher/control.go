package launcher

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ServerInfo describes one storage server of a cluster.
type ServerInfo struct {
	ID      string // its persistent server ID
	Dir     string // its data directory, Data/server-<ID>
	PID     int    // its current or last process ID
	Running bool   // whether that process is still running
	Paused  bool   // whether it is stopped by PauseServer
}

// Servers returns the cluster's storage servers, sorted by ID.
func (c *Cluster) Servers() []ServerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ServerInfo, 0, len(c.servers))
	for _, m := range c.servers {
		info := ServerInfo{ID: m.id, Dir: m.dir}
		if m.ch != nil {
			info.PID, info.Running, info.Paused = m.ch.pid(), !m.ch.exited, m.ch.paused
		}
		out = append(out, info)
	}
	return out
}

// KillServer sends SIGKILL to server id, as a crash would, and waits for it
// to die.
func (c *Cluster) KillServer(id string) error { return c.stopServer(id, syscall.SIGKILL) }

// StopServer asks server id to shut down cleanly (SIGTERM) and waits for it,
// sending SIGKILL after the grace period.
func (c *Cluster) StopServer(id string) error { return c.stopServer(id, syscall.SIGTERM) }

func (c *Cluster) stopServer(id string, sig syscall.Signal) error {
	c.mu.Lock()
	m, err := c.memberLocked(id)
	if err == nil {
		err = c.markStoppingLocked(m.ch)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.stop(m.ch, sig)
}

// StartServer starts server id again, with its ID and data directory, after
// KillServer, StopServer or an unexpected exit, and waits until the proxy has
// welcomed it back into the ring.
func (c *Cluster) StartServer(ctx context.Context, id string) error {
	c.mu.Lock()
	m, err := c.memberLocked(id)
	switch {
	case err != nil:
	case c.closed:
		err = ErrClosed
	case m.ch != nil && !m.ch.exited:
		err = fmt.Errorf("%w: server %s", ErrRunning, id)
	default:
		err = c.spawnServerLocked(m)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady(ctx, map[*child]readiness{m.ch: c.welcomedByAll(nil)})
}

// AddServer starts a new storage server, with a fresh ID and data
// directory, and waits until every running proxy has welcomed it: it is in
// the committed ring. It returns the new server's ID.
func (c *Cluster) AddServer(ctx context.Context) (string, error) {
	c.mu.Lock()
	var m *member
	err := ErrClosed
	if !c.closed {
		var d serverDir
		d, err = newServerDir(c.cfg.Data, c.taken)
		if err == nil {
			m = &member{serverDir: d}
			c.servers = append(c.servers, m)
			slices.SortFunc(c.servers, func(a, b *member) int { return strings.Compare(a.id, b.id) })
			err = c.spawnServerLocked(m)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	return m.id, c.waitReady(ctx, map[*child]readiness{m.ch: c.welcomedByAll(nil)})
}

// PauseServer stops server id with SIGSTOP, as a hung process: it keeps
// its connections but answers nothing until ResumeServer.
func (c *Cluster) PauseServer(id string) error {
	c.mu.Lock()
	m, err := c.memberLocked(id)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.pause(m.ch, m.id)
}

// ResumeServer lets a paused server id run again (SIGCONT).
func (c *Cluster) ResumeServer(id string) error {
	c.mu.Lock()
	m, err := c.memberLocked(id)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.resume(m.ch, m.id)
}

// pauseTimeout bounds the wait for a paused process to be stopped.
const pauseTimeout = 5 * time.Second

// pause sends SIGSTOP to ch and waits until every thread of it has
// stopped, so that nothing it does afterwards can be mistaken for an
// answer.
func (c *Cluster) pause(ch *child, name string) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case ch == nil || ch.exited:
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNotRunning, name)
	case ch.paused:
		c.mu.Unlock()
		return fmt.Errorf("%w: %s is paused already", ErrPaused, name)
	}
	ch.paused = true
	c.notifyLocked()
	c.mu.Unlock()
	if err := ch.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("cluster: pausing %s: %w", name, err)
	}
	// The kernel stops the threads asynchronously, within microseconds;
	// a process that is gone meanwhile ends the wait too.
	deadline := time.NewTimer(pauseTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !processStopped(ch.pid()) {
		select {
		case <-ch.done:
			return fmt.Errorf("%w: %s", ErrNotRunning, name)
		case <-deadline.C:
			return fmt.Errorf("cluster: %s (pid %d) not stopped within %v of SIGSTOP", name, ch.pid(), pauseTimeout)
		case <-tick.C:
		}
	}
	return nil
}

// resume sends SIGCONT to a child pause stopped.
func (c *Cluster) resume(ch *child, name string) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case ch == nil || ch.exited:
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNotRunning, name)
	case !ch.paused:
		c.mu.Unlock()
		return fmt.Errorf("%w: %s is not paused", ErrNotPaused, name)
	}
	ch.paused = false
	c.notifyLocked()
	c.mu.Unlock()
	if err := ch.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("cluster: resuming %s: %w", name, err)
	}
	return nil
}

// NextExit waits for a child to exit without being asked to (a crash, or a
// kill from outside) and returns the error describing it, oldest first; it
// returns ctx's error if ctx ends first, and ErrClosed once the cluster is
// closed and every such exit has been returned.
func (c *Cluster) NextExit(ctx context.Context) (*ChildError, error) {
	for {
		c.mu.Lock()
		if len(c.exits) > 0 {
			e := c.exits[0]
			c.exits = c.exits[1:]
			c.mu.Unlock()
			return e, nil
		}
		closed, changed := c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// memberLocked returns server id; c.mu is held.
func (c *Cluster) memberLocked(id string) (*member, error) {
	for _, m := range c.servers {
		if m.id == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownServer, id)
}

// markStoppingLocked marks ch as asked to stop, so its exit is not reported
// as unexpected; c.mu is held.
func (c *Cluster) markStoppingLocked(ch *child) error {
	switch {
	case c.closed:
		return ErrClosed
	case ch == nil:
		return ErrNotRunning
	case ch.exited:
		return fmt.Errorf("%w: %s", ErrNotRunning, ch.name)
	}
	ch.stopping = true
	return nil
}
