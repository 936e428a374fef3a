package launcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"shoplist/cluster/membership"
)

// ServerInfo describes one storage server of a cluster.
type ServerInfo struct {
	ID      string // its persistent server ID
	Dir     string // its data directory, Data/server-<ID>
	PID     int    // its current or last process ID
	Running bool   // whether that process is still running
	Paused  bool   // whether it is paused (see Cluster.Signal)
}

// ServerName returns the name of server id in the cluster's logs and errors
// ([ChildError.Child]) and for [Cluster.Signal] and [Cluster.Restart]:
// "server-<id>".
func ServerName(id string) string { return serverDirPrefix + id }

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

// AddServer starts a new storage server, with a fresh ID, data directory
// and key, admitted to the backend first, and waits until every running
// proxy has welcomed it: it is in the committed ring. It returns the new
// server's ID.
func (c *Cluster) AddServer(ctx context.Context) (string, error) {
	c.mu.Lock()
	var m *member
	var keys []membership.Admitted
	err := ErrClosed
	if !c.closed {
		var d serverDir
		d, err = newServerDir(c.cfg.Data, c.taken)
		if err == nil {
			m = &member{serverDir: d}
			keys, err = c.keysLocked([]*member{m})
		}
	}
	c.mu.Unlock()
	if err == nil {
		err = c.admit(ctx, keys)
	}
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.closed {
		err = ErrClosed
	} else {
		c.servers = append(c.servers, m)
		slices.SortFunc(c.servers, func(a, b *member) int { return strings.Compare(a.id, b.id) })
		err = c.spawnServerLocked(m)
	}
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	return m.id, c.waitReady(ctx, map[*child]readiness{m.ch: c.welcomedByAll(nil)})
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

// startServers starts every server and waits until every running proxy has
// welcomed each, or it has failed: exited, or not been welcomed within
// cfg.ReadyTimeout. One server that cannot start (a data directory in use
// or unreadable, say) does not stop the cluster: every list keeps its
// quorums while one of its N replicas is missing, and the server's data
// waits in its directory. The failure is reported on cfg.Stderr, with the
// end of the server's stderr, and the cluster goes on without it; a server
// not ready in time is left running, to join when it can. Only if every
// server fails does the start fail, with their errors: that is not one
// server's fault but the cluster's (a bad flag, a broken binary).
func (c *Cluster) startServers(ctx context.Context) error {
	c.mu.Lock()
	var err error
	want := map[*child]readiness{}
	for _, m := range c.servers {
		if err = c.spawnServerLocked(m); err != nil {
			break
		}
		want[m.ch] = c.welcomedByAll(nil)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	started := len(want)
	failed, err := c.waitChildren(ctx, want, true)
	if err != nil {
		return err
	}
	if len(failed) > 0 && len(failed) == started {
		errs := make([]error, len(failed))
		for i, f := range failed {
			errs[i] = f
		}
		return errors.Join(errs...)
	}
	c.mu.Lock()
	for _, f := range failed {
		c.dropExitLocked(f.Child) // reported here, not again by NextExit
	}
	c.mu.Unlock()
	for _, f := range failed {
		c.note(fmt.Sprintf("%v; the cluster starts without it, with %d of %d servers", f, started-len(failed), started))
	}
	return nil
}

// dropExitLocked removes the unexpected exit of the child called name from
// those NextExit has yet to return; c.mu is held.
func (c *Cluster) dropExitLocked(name string) {
	c.exits = slices.DeleteFunc(c.exits, func(e *ChildError) bool { return e.Child == name })
}
