package launcher

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/server"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/storage"
	"shoplist/testing/testcluster"
)

// launchReal launches a cluster of real roles, each its own process (this
// test binary re-executed), on free loopback ports in a temporary directory,
// with short heartbeats. Its output is shown if the test fails.
func launchReal(t *testing.T, servers int) *Cluster {
	t.Helper()
	return launchWith(t, Config{Servers: servers})
}

// launchWith launches cfg as launchReal does: cfg's data directory,
// ports, output, heartbeats and grace are set here.
func launchWith(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	logs := &testcluster.FailureLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster output:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	cfg.Data = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.Stderr = logs
	cfg.ProxyArgs = append([]string{"--heartbeat", testHeartbeat.String(), "--timeout", testTimeoutOp.String()}, cfg.ProxyArgs...)
	cfg.ServerArgs = append([]string{"--heartbeat", testHeartbeat.String()}, cfg.ServerArgs...)
	cfg.StopGrace = 5 * time.Second
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * testTimeout
	}
	c, err := Launch(ctx, cfg)
	must(t, err)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing the cluster: %v", err)
		}
	})
	return c
}

// ownersOf returns the preference list of list on a ring of servers, as the
// proxy computes it (MD5 ring, default virtual nodes, N = 3).
func ownersOf(servers []string, list uuid.UUID) []string {
	return hashring.New(servers).Owners(list.String(), 3)
}

// storedList opens the data directory of a stopped server and returns its
// replica of list, nil if it has none, and the server ID kept there. It runs
// the server in this process, pointed at no proxy, so that nothing changes
// the store meanwhile.
func storedList(t *testing.T, dir string, list uuid.UUID) (*crdt.List, string) {
	t.Helper()
	s, err := server.Start(context.Background(), server.Config{
		Dir:     dir,
		Proxies: []string{"tcp://127.0.0.1:1"}, // nothing listens there
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	must(t, err)
	defer func() { must(t, s.Close()) }()
	l, err := s.Store().Load(list)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, s.ID()
	}
	must(t, err)
	return l, s.ID()
}

// serverInfo returns the launcher's view of server id.
func serverInfo(t *testing.T, c *Cluster, id string) ServerInfo {
	t.Helper()
	for _, s := range c.Servers() {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no server %s", id)
	return ServerInfo{}
}

// TestLaunchReportsAPortInUse: a real proxy that cannot bind makes Launch
// fail with an error naming the proxy and quoting its reason, which is what
// the service prints.
func TestLaunchReportsAPortInUse(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer taken.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err = Launch(ctx, Config{Data: t.TempDir(), Servers: 1, Listen: taken.Addr().String()})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "proxy" || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Launch on a port in use: %v, want a *ChildError for the proxy saying the address is in use", err)
	}
}
