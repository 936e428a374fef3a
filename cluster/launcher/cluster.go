package launcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"shoplist/cluster/admin"
)

// Cluster is a running group of proxies and their storage servers, each a
// child process. Its methods are safe for concurrent use.
type Cluster struct {
	cfg  Config
	sink *lineWriter
	wg   sync.WaitGroup // every child's output readers and reaper

	// mu guards the fields below it, the fields of every proxyProc and
	// member, and the state fields of every child (exited, exitErr,
	// stopping, paused, readiness); waiters block on changed.
	mu      sync.Mutex
	changed chan struct{}   // closed and replaced whenever a child's state changes
	proxies []*proxyProc    // by index
	servers []*member       // sorted by ID
	taken   map[string]bool // server IDs that have a directory
	exits   []*ChildError   // unexpected exits NextExit has not returned yet
	closed  bool

	opMu sync.Mutex    // guards op
	op   *admin.Client // with the operator's credentials, once loaded
}

// member is one storage server: its persistent identity and its current
// process (nil before it is first started).
type member struct {
	serverDir
	ch *child
}

// Launch creates or reuses the data layout under cfg.Data, starts the
// proxies, then every server, and returns once every proxy is bound and
// every server has been welcomed into the ring by every proxy. If a proxy
// exits first, or is not ready within cfg.ReadyTimeout, Launch stops the
// others and returns a *ChildError naming it. A server that does so is
// reported on cfg.Stderr and the cluster starts without it, unless every
// server does: then Launch stops the others and returns their
// *ChildErrors, joined. ctx bounds the start only; stop the cluster with
// Close.
//
// Proxy 0 bootstraps the Raft group and the others join it through its admin
// API, one after the other. A group restarted from a data directory where
// proxy 0 already has Raft state is started all at once instead (a lone
// member of a group of three cannot elect a leader), which needs the fixed
// ports the group's Raft configuration records: port 0 is refused then.
func Launch(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, sink: &lineWriter{w: cfg.Stderr}, changed: make(chan struct{}), taken: map[string]bool{}}
	dirs, proxies, err := prepareData(cfg.Data, cfg.Servers, cfg.Proxies, c.note)
	if err != nil {
		return nil, err
	}
	if proxies > cfg.Proxies {
		c.note(fmt.Sprintf("%s holds %d proxies: starting all of them", cfg.Data, proxies))
	}
	if err := checkListen(cfg.Listen, proxies); err != nil {
		return nil, err
	}
	for i := range proxies {
		c.proxies = append(c.proxies, newProxyProc(i, cfg.Data))
	}
	for _, d := range dirs {
		c.servers = append(c.servers, &member{serverDir: d})
		c.taken[d.id] = true
	}
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// start starts the proxies and waits for them, admits every server's key
// (admission.go), then starts every server and waits until every proxy has
// welcomed it; a server that fails to start is reported and left out
// (startServers).
func (c *Cluster) start(ctx context.Context) error {
	if err := c.startProxies(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	keys, err := c.keysLocked(c.servers)
	c.mu.Unlock()
	if err == nil {
		err = c.admit(ctx, keys)
	}
	if err != nil {
		return err
	}
	return c.startServers(ctx)
}

// startProxies starts every proxy: proxy 0 first, then the others joining
// it, or all at once when proxy 0 has Raft state already (see Launch).
func (c *Cluster) startProxies(ctx context.Context) error {
	host, port, err := splitListen(c.cfg.Listen)
	if err != nil {
		return err
	}
	if err := c.issueCredentials(); err != nil {
		return err
	}
	together := len(c.proxies) > 1 && hasRaftState(c.proxies[0].dir)
	if together && port == 0 {
		return fmt.Errorf("%w: %s holds a group of %d proxies, which restarts on the ports its Raft configuration records: give --listen a port",
			ErrConfig, c.cfg.Data, len(c.proxies))
	}
	if port != 0 {
		for _, p := range c.proxies {
			p.planned = plannedAddrs(host, port, p.index)
		}
	}
	if together {
		return c.spawnProxiesAndWait(ctx, c.proxies, func(p *proxyProc) []string {
			if p.index == 0 {
				return c.firstArgs(p, host, port, nil) // its Raft state says its group
			}
			return c.firstArgs(p, host, port, c.peersOf(p))
		})
	}
	first := c.proxies[0]
	err = c.spawnProxiesAndWait(ctx, c.proxies[:1], func(p *proxyProc) []string {
		return c.firstArgs(p, host, port, nil)
	})
	if err != nil || len(c.proxies) == 1 {
		return err
	}
	c.mu.Lock()
	leaderAdmin := first.addrs.admin
	c.mu.Unlock()
	if leaderAdmin == "" {
		return first.ch.failure(fmt.Errorf("%w: its ready line has no admin= address for the others to join", ErrNotReady))
	}
	return c.spawnProxiesAndWait(ctx, c.proxies[1:], func(p *proxyProc) []string {
		return c.firstArgs(p, host, port, []string{leaderAdmin})
	})
}

// spawnProxiesAndWait starts each proxy of ps with the arguments args gives
// it and waits for their ready lines.
func (c *Cluster) spawnProxiesAndWait(ctx context.Context, ps []*proxyProc, args func(*proxyProc) []string) error {
	c.mu.Lock()
	want := map[*child]readiness{}
	var err error
	for _, p := range ps {
		if err = c.spawnProxyLocked(p, args(p)); err != nil {
			break
		}
		want[p.ch] = readyAfter(0)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitReady(ctx, want)
}

// splitListen returns the host and port of a checked --listen.
func splitListen(listen string) (string, int, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("%w: --listen %q: %w", ErrConfig, listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("%w: --listen %q: %w", ErrConfig, listen, err)
	}
	return host, port, nil
}

// spawnServerLocked starts m's server process, connected to every proxy's
// backend; c.mu is held.
func (c *Cluster) spawnServerLocked(m *member) error {
	args := []string{"--data", m.dir, "--id", m.id, "--proxy", c.backendsLocked()}
	if c.cfg.InsecureBackend {
		args = append(args, "--insecure-backend")
	}
	args = append(args, c.cfg.ServerArgs...)
	ch, err := c.spawn(ServerName(m.id), RoleServer, args)
	if err != nil {
		return err
	}
	m.ch = ch
	return nil
}

// readiness is a condition on a child that a waitReady waits for; c.mu is
// held when it is called.
type readiness func(ch *child) bool

// readyAfter holds once ch has printed more than n ready lines.
func readyAfter(n int) readiness { return func(ch *child) bool { return ch.ready > n } }

// welcomedByAll returns the condition that a server has been welcomed by
// every proxy that runs (and is not paused) more times than before says,
// by backend endpoint. A proxy that starts or stops meanwhile counts from
// then on.
func (c *Cluster) welcomedByAll(before map[string]int) readiness {
	return func(ch *child) bool {
		for _, p := range c.proxies {
			if p.ch == nil || p.ch.exited || p.ch.paused || p.addrs.eps.Backend == "" {
				continue
			}
			ep := p.addrs.eps.Backend
			if ch.welcomed[ep] <= before[ep] {
				return false
			}
		}
		return true
	}
}

// waitReady waits until every child in want meets its condition. It fails
// with a *ChildError if one of them exits or still does not after
// cfg.ReadyTimeout, and with ctx's error if ctx ends first.
func (c *Cluster) waitReady(ctx context.Context, want map[*child]readiness) error {
	failed, err := c.waitChildren(ctx, want, false)
	if err == nil && len(failed) > 0 {
		err = failed[0]
	}
	return err
}

// waitChildren waits until every child in want meets its condition or has
// failed: exited, or not met it within cfg.ReadyTimeout. It returns the
// failures, sorted by name; unless tolerate is set, the first failure ends
// the wait. It fails only if ctx ends first. want is consumed.
func (c *Cluster) waitChildren(ctx context.Context, want map[*child]readiness, tolerate bool) ([]*ChildError, error) {
	timeout := time.NewTimer(c.cfg.ReadyTimeout)
	defer timeout.Stop()
	var failed []*ChildError
	for {
		c.mu.Lock()
		var waiting []*child
		for ch, ok := range want {
			switch {
			case ch.exited:
				failed = append(failed, ch.exitFailure())
				delete(want, ch)
			case !ok(ch):
				waiting = append(waiting, ch)
			}
		}
		changed := c.changed
		c.mu.Unlock()
		slices.SortFunc(failed, func(a, b *ChildError) int { return strings.Compare(a.Child, b.Child) })
		slices.SortFunc(waiting, func(a, b *child) int { return strings.Compare(a.name, b.name) })
		if len(waiting) == 0 || (len(failed) > 0 && !tolerate) {
			return failed, nil
		}
		select {
		case <-changed:
		case <-timeout.C:
			for _, ch := range waiting {
				failed = append(failed, ch.failure(fmt.Errorf("%w: not ready within %v", ErrNotReady, c.cfg.ReadyTimeout)))
			}
			return failed, nil
		case <-ctx.Done():
			return failed, fmt.Errorf("cluster: waiting for %s: %w", waiting[0].name, ctx.Err())
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

// childrenLocked returns the current process of every proxy and server that
// has one; c.mu is held.
func (c *Cluster) childrenLocked() []*child {
	var out []*child
	for _, p := range c.proxies {
		if p.ch != nil {
			out = append(out, p.ch)
		}
	}
	for _, m := range c.servers {
		if m.ch != nil {
			out = append(out, m.ch)
		}
	}
	return out
}
