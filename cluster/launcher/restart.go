package launcher

import (
	"context"
	"fmt"
	"strings"
)

// Restart starts the child called name (see [ServerName] and [ProxyName])
// again, after Signal stopped it or it exited unexpectedly, and waits until
// it is back:
//
//   - a server, with its ID and data directory, once every running proxy
//     has welcomed it back into the ring;
//   - a proxy, on the addresses it had, once it is bound (it has rejoined
//     the Raft group and has the committed ring) and every running server
//     has reconnected to it on its own and been welcomed.
//
// It fails with ErrRunning if the child runs. The service never restarts a
// child; tests end their faults with it.
func (c *Cluster) Restart(ctx context.Context, name string) error {
	if id, ok := strings.CutPrefix(name, serverDirPrefix); ok {
		return c.restartServer(ctx, id)
	}
	return c.restartProxy(ctx, name)
}

// restartServer starts server id again and waits until every running proxy
// has welcomed it.
func (c *Cluster) restartServer(ctx context.Context, id string) error {
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

// restartProxy starts the proxy called name again on the addresses it had
// and waits until it is ready and every running server that is not paused
// has been welcomed by it once more.
func (c *Cluster) restartProxy(ctx context.Context, name string) error {
	c.mu.Lock()
	p, err := c.proxyNamedLocked(name)
	switch {
	case err != nil:
	case c.closed:
		err = ErrClosed
	case p.ch != nil && !p.ch.exited:
		err = fmt.Errorf("%w: %s", ErrRunning, p.name)
	}
	var args []string
	if err == nil {
		args, err = c.restartArgsLocked(p)
	}
	if err == nil {
		err = c.spawnProxyLocked(p, args)
	}
	want := map[*child]readiness{}
	if err == nil {
		want[p.ch] = readyAfter(0)
		ep := p.addrs.eps.Backend
		for _, m := range c.servers {
			if m.ch != nil && !m.ch.exited && !m.ch.paused {
				n := m.ch.welcomed[ep]
				want[m.ch] = func(ch *child) bool { return ch.welcomed[ep] > n }
			}
		}
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady(ctx, want)
}
