package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"shoplist/proxy"
)

// proxyName names the proxy child in logs and errors.
const proxyName = "proxy"

// Cluster is a running proxy and its storage servers, each a child process.
// Its methods are safe for concurrent use.
type Cluster struct {
	cfg  Config
	sink *lineWriter
	wg   sync.WaitGroup // every child's output readers and reaper

	// mu guards the fields below it and the state fields of every child
	// (exited, exitErr, stopping, readiness); waiters block on changed.
	mu      sync.Mutex
	changed chan struct{}   // closed and replaced whenever a child's state changes
	eps     proxy.Endpoints // the proxy's endpoints, from its first ready line
	raft    string          // the proxy's Raft address, from its first ready line
	proxy   *child          // the current proxy process
	servers []*member       // sorted by ID
	exits   []*ChildError   // unexpected exits NextExit has not returned yet
	closed  bool
}

// member is one storage server: its persistent identity and its current
// process (nil before it is first started).
type member struct {
	serverDir
	ch *child
}

// Launch creates or reuses the data layout under cfg.Data, starts the proxy,
// then every server, and returns once the proxy is bound and every server has
// been welcomed into its ring. If a child exits first, or is not ready within
// cfg.ReadyTimeout, Launch stops the others and returns a *ChildError naming
// it. ctx bounds the start only; stop the cluster with Close.
func Launch(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, sink: &lineWriter{w: cfg.Stderr}, changed: make(chan struct{})}
	dirs, err := prepareData(cfg.Data, cfg.Servers, c.note)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		c.servers = append(c.servers, &member{serverDir: d})
	}
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// start starts the proxy, waits for it, then starts every server and waits
// for them.
func (c *Cluster) start(ctx context.Context) error {
	c.mu.Lock()
	p, err := c.spawn(proxyName, RoleProxy, c.proxyArgs("--listen", c.cfg.Listen))
	if err == nil {
		c.proxy = p
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.waitReady(ctx, map[*child]int{p: 0}); err != nil {
		return err
	}
	c.mu.Lock()
	c.eps, c.raft = p.eps, p.raft
	want := map[*child]int{}
	for _, m := range c.servers {
		if err = c.spawnServerLocked(m); err != nil {
			break
		}
		want[m.ch] = 0
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady(ctx, want)
}

// proxyArgs returns the proxy's command line: the endpoint flags given, its
// data directory, then cfg.ProxyArgs.
func (c *Cluster) proxyArgs(endpoints ...string) []string {
	args := append(endpoints, "--data", filepath.Join(c.cfg.Data, proxyDirName))
	return append(args, c.cfg.ProxyArgs...)
}

// spawnServerLocked starts m's server process; c.mu is held.
func (c *Cluster) spawnServerLocked(m *member) error {
	args := append([]string{"--data", m.dir, "--id", m.id, "--proxy", c.eps.Backend}, c.cfg.ServerArgs...)
	ch, err := c.spawn(serverDirPrefix+m.id, RoleServer, args)
	if err != nil {
		return err
	}
	m.ch = ch
	return nil
}

// waitReady waits until every child in want has printed more ready lines
// than its count there. It fails with a *ChildError if one of them exits or
// is still not ready after cfg.ReadyTimeout, and with ctx's error if ctx
// ends first.
func (c *Cluster) waitReady(ctx context.Context, want map[*child]int) error {
	timeout := time.NewTimer(c.cfg.ReadyTimeout)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		var waiting *child
		for ch, n := range want {
			switch {
			case ch.exited:
				err := ch.exitFailure()
				c.mu.Unlock()
				return err
			case ch.ready <= n && (waiting == nil || ch.name < waiting.name):
				waiting = ch
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if waiting == nil {
			return nil
		}
		select {
		case <-changed:
		case <-timeout.C:
			return waiting.failure(fmt.Errorf("%w: no ready line within %v", ErrNotReady, c.cfg.ReadyTimeout))
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for %s: %w", waiting.name, ctx.Err())
		}
	}
}

// notifyLocked wakes everything waiting for a change; c.mu is held.
func (c *Cluster) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// note writes a line of the launcher's own to cfg.Stderr.
func (c *Cluster) note(s string) { c.sink.line("[service] ", s) }

// ClientEndpoint returns the address clients connect to, tcp://HOST:PORT.
func (c *Cluster) ClientEndpoint() string { return c.Endpoints().Client }

// Endpoints returns the proxy's bound endpoints. They stay the same when the
// proxy is restarted.
func (c *Cluster) Endpoints() proxy.Endpoints {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eps
}

// Close stops every running child with SIGTERM, waits for it (sending
// SIGKILL to one still running after cfg.StopGrace) and for the cluster's
// goroutines. It reports children that needed SIGKILL or exited with an
// error. Closing a closed Cluster does nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var running []*child
	for _, ch := range c.childrenLocked() {
		if !ch.exited {
			ch.stopping = true
			running = append(running, ch)
		}
	}
	c.notifyLocked()
	c.mu.Unlock()

	errs := make([]error, len(running))
	var stops sync.WaitGroup
	for i, ch := range running {
		stops.Add(1)
		go func() {
			defer stops.Done()
			errs[i] = c.stop(ch, syscall.SIGTERM)
		}()
	}
	stops.Wait()
	c.wg.Wait()
	return errors.Join(errs...)
}

// childrenLocked returns the current process of the proxy and of every
// server that has one; c.mu is held.
func (c *Cluster) childrenLocked() []*child {
	var out []*child
	if c.proxy != nil {
		out = append(out, c.proxy)
	}
	for _, m := range c.servers {
		if m.ch != nil {
			out = append(out, m.ch)
		}
	}
	return out
}
