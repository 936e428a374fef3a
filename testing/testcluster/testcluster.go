// Package testcluster runs a real proxy and storage servers inside a test,
// and writes to and checks a running cluster, for the tests of clients and
// of the cluster.
//
// Start binds a proxy on loopback ephemeral ports and starts storage
// servers with their data in t.TempDir(), each admitted to the proxy's
// CURVE backend with its own key (as an operator would with `proxy
// admit`); everything stops when the test ends, and the cluster's logs are
// shown if it failed. StopProxy and
// StartProxy take the proxy away and bring it back on the same ports, so a
// client sees the cluster go and come back (the servers reconnect on their
// own). Waiting is done by polling a condition with a deadline (Eventually),
// never by sleeping.
//
// For the tests of the cluster itself (the integration and chaos tests),
// Writers keep making every kind of edit and pushing it to a cluster from
// many clients, each over its own dealer.Conn that fails over to the next
// proxy, pulling and merging the shared lists as they go, and record in a
// ledger (package ledger) the join of what each sent and of what was
// acknowledged. Pull reads the lists back through a proxy, and ReadStore
// and CheckReplicas read the stores of stopped servers; both judge what
// they read against that ledger.
package testcluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
	"shoplist/cluster/server"
	"shoplist/hashring"
	"shoplist/internal/curvekey"
)

// Timing of every test cluster. A dead server or proxy is noticed within
// three heartbeats; the proxy gives up a request after OpTimeout. Shorter
// heartbeats make a process starved of CPU (go test -race runs packages side
// by side on few cores) look dead.
const (
	Heartbeat = 250 * time.Millisecond
	OpTimeout = 2 * time.Second
	// WaitTimeout is how long Eventually, Start and StartProxy wait.
	WaitTimeout = 20 * time.Second
)

// Cluster is a proxy and storage servers running in the test process.
type Cluster struct {
	t   testing.TB
	log *slog.Logger
	eps proxy.Endpoints // as first bound; StartProxy binds the same ports
	key curvekey.Pair   // the proxy's backend key, the same across StartProxy

	mu       sync.Mutex        // guards proxy
	proxy    *proxy.Proxy      // nil while stopped
	admitted map[string]string // the servers' keys, by ID, admitted by every proxy started
	servers  []*server.Server
}

// Options are the settings of a test cluster that differ from the
// servers' defaults.
type Options struct {
	TombstoneHorizon time.Duration // server.Config.TombstoneHorizon
}

// Start starts a proxy and n storage servers (n ≥ 1) and returns once every
// server is in the ring and up. The proxy replicates each list on up to
// three servers, with majority quorums.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartWith(t, n, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, n int, o Options) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("testcluster: %d servers; want at least 1", n)
	}
	key, err := curvekey.Generate()
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	c := &Cluster{t: t, log: FailureLogger(t), key: key, admitted: map[string]string{}}
	// The directories first: cleanups run last-in first-out, so the servers
	// are closed before their directories are removed. Each server's key
	// is made in its directory and admitted before it starts.
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
		k, err := server.LoadOrCreateKey(dirs[i])
		if err != nil {
			t.Fatalf("testcluster: %v", err)
		}
		c.admitted[serverID(i)] = k.Public
	}
	p, err := c.newProxy(proxy.Endpoints{Client: "tcp://127.0.0.1:*", Pub: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*"}, n)
	if err != nil {
		t.Fatalf("testcluster: starting the proxy: %v", err)
	}
	c.proxy, c.eps = p, p.Endpoints()
	t.Cleanup(c.stop)
	for i := range n {
		s, err := server.Start(context.Background(), server.Config{
			Dir:              dirs[i],
			ID:               serverID(i),
			Proxies:          []string{c.eps.ServerEndpoint()},
			Heartbeat:        Heartbeat,
			TombstoneHorizon: o.TombstoneHorizon,
			Logger:           c.log.With("role", "server", "id", i),
		})
		if err != nil {
			t.Fatalf("testcluster: starting server %d: %v", i, err)
		}
		c.servers = append(c.servers, s)
	}
	c.waitUp()
	return c
}

// serverID returns the ID of the test cluster's server i.
func serverID(i int) string { return fmt.Sprintf("s%d", i) }

// newProxy starts a proxy bound to eps with the cluster's backend key, on a
// membership that admits every server's key, with quorums that n servers
// can meet.
func (c *Cluster) newProxy(eps proxy.Endpoints, n int) (*proxy.Proxy, error) {
	rf := min(n, 3)
	w := rf/2 + 1
	reg, err := membership.NewRegistry("", hashring.DefaultVNodes)
	if err != nil {
		return nil, err
	}
	for id, key := range c.admitted {
		if err := reg.Admit(context.Background(), id, key); err != nil {
			return nil, err
		}
	}
	p, err := proxy.Start(context.Background(), proxy.Config{
		Membership:      reg,
		CurveSecretKey:  c.key.Secret,
		ClientEndpoint:  eps.Client,
		PubEndpoint:     eps.Pub,
		BackendEndpoint: eps.Backend,
		N:               rf,
		W:               w,
		R:               rf - w + 1,
		Heartbeat:       Heartbeat,
		Timeout:         OpTimeout,
		Logger:          c.log.With("role", "proxy"),
	})
	return p, err
}

// Endpoint returns the proxy's client endpoint with its key
// (ENDPOINT#KEY), for clients' DEALERs. It stays the same across StopProxy
// and StartProxy.
func (c *Cluster) Endpoint() string { return c.eps.ClientEndpoint() }

// Endpoints returns every endpoint the proxy binds.
func (c *Cluster) Endpoints() proxy.Endpoints { return c.eps }

// Servers returns the storage servers.
func (c *Cluster) Servers() []*server.Server { return c.servers }

// Logger returns the cluster's logger: what it receives is shown only if the
// test fails. Clients under test may log there too.
func (c *Cluster) Logger() *slog.Logger { return c.log }

// StopProxy closes the proxy: clients and servers lose it.
func (c *Cluster) StopProxy() {
	c.t.Helper()
	c.mu.Lock()
	p := c.proxy
	c.proxy = nil
	c.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.Close(); err != nil {
		c.t.Errorf("testcluster: closing the proxy: %v", err)
	}
}

// StartProxy starts the proxy again on the same ports and returns once every
// server has reconnected and is up. A ZeroMQ socket closes asynchronously,
// so binding is retried until the old one has let the ports go.
func (c *Cluster) StartProxy() {
	c.t.Helper()
	c.mu.Lock()
	running := c.proxy != nil
	c.mu.Unlock()
	if running {
		c.t.Fatalf("testcluster: StartProxy: the proxy is running")
	}
	var lastErr error
	Eventually(c.t, "the proxy binds its old ports", func() bool {
		p, err := c.newProxy(c.eps, len(c.servers))
		if err != nil {
			lastErr = err
			return false
		}
		c.mu.Lock()
		c.proxy = p
		c.mu.Unlock()
		return true
	}, func() string { return fmt.Sprint(lastErr) })
	c.waitUp()
}

// waitUp waits until every server is a ring member and up.
func (c *Cluster) waitUp() {
	c.t.Helper()
	c.mu.Lock()
	p := c.proxy
	c.mu.Unlock()
	want := map[string]bool{}
	for _, s := range c.servers {
		want[s.ID()] = true
	}
	var members []proxy.MemberStatus
	Eventually(c.t, "every server in the ring and up", func() bool {
		members = p.Members()
		up := 0
		for _, m := range members {
			if m.Up && want[m.ID] {
				up++
			}
		}
		return up == len(want)
	}, func() string { return fmt.Sprintf("members %v", members) })
}

// stop closes the servers, then the proxy.
func (c *Cluster) stop() {
	for i, s := range c.servers {
		if err := s.Close(); err != nil {
			c.t.Errorf("testcluster: closing server %d: %v", i, err)
		}
	}
	c.StopProxy()
}

// Eventually polls cond every 10 ms until it holds, and fails the test if
// it does not within WaitTimeout. what describes the condition; detail, if
// not nil, adds the state found when giving up. Use it for conditions that
// nothing announces.
func Eventually(t testing.TB, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("not within %v: %s", WaitTimeout, what)
			for _, d := range detail {
				if d != nil {
					msg += "; " + d()
				}
			}
			t.Fatal(msg)
		}
		<-tick.C
	}
}
