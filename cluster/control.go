package cluster

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// ServerInfo describes one storage server of a cluster.
type ServerInfo struct {
	ID      string // its persistent server ID
	Dir     string // its data directory, Data/server-<ID>
	PID     int    // its current or last process ID
	Running bool   // whether that process is still running
}

// Servers returns the cluster's storage servers, sorted by ID.
func (c *Cluster) Servers() []ServerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ServerInfo, 0, len(c.servers))
	for _, m := range c.servers {
		info := ServerInfo{ID: m.id, Dir: m.dir}
		if m.ch != nil {
			info.PID, info.Running = m.ch.pid(), !m.ch.exited
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
	return c.waitReady(ctx, map[*child]int{m.ch: 0})
}

// KillProxy sends SIGKILL to the proxy and waits for it to die.
func (c *Cluster) KillProxy() error {
	c.mu.Lock()
	p := c.proxy
	err := c.markStoppingLocked(p)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.stop(p, syscall.SIGKILL)
}

// StartProxy starts the proxy again on the endpoints it had, after KillProxy
// or an unexpected exit, and waits until it is bound and every running
// server has reconnected on its own and been welcomed again.
func (c *Cluster) StartProxy(ctx context.Context) error {
	c.mu.Lock()
	err := c.respawnProxyLocked()
	want := map[*child]int{}
	if err == nil {
		want[c.proxy] = 0
		for _, m := range c.servers {
			if m.ch != nil && !m.ch.exited {
				want[m.ch] = m.ch.ready
			}
		}
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady(ctx, want)
}

// respawnProxyLocked starts a new proxy process on c.eps; c.mu is held.
func (c *Cluster) respawnProxyLocked() error {
	switch {
	case c.closed:
		return ErrClosed
	case !c.proxy.exited:
		return fmt.Errorf("%w: proxy", ErrRunning)
	}
	listen := strings.TrimPrefix(c.eps.Client, "tcp://")
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return fmt.Errorf("cluster: proxy client endpoint %q: %w", c.eps.Client, err)
	}
	eps := []string{"--listen", listen, "--pub", c.eps.Pub, "--backend", c.eps.Backend}
	if c.raft != "" { // the same Raft address: the one its Raft configuration records
		eps = append(eps, "--raft", c.raft)
	}
	p, err := c.spawn(proxyName, RoleProxy, c.proxyArgs(eps...))
	if err != nil {
		return err
	}
	c.proxy = p
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
