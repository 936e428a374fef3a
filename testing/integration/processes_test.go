package integration

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/launcher"
	"shoplist/cluster/server"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/internal/curvekey"
	"shoplist/storage"
	"shoplist/testing/testcluster"
)

// launchReal launches a cluster of real roles, each its own process (this
// test binary re-executed), on free loopback ports in a temporary directory,
// with short heartbeats. Its output is shown if the test fails.
func launchReal(t *testing.T, servers int) *launcher.Cluster {
	t.Helper()
	return launchWith(t, launcher.Config{Servers: servers})
}

// launchWith launches cfg as launchReal does: its ports, heartbeats and
// grace are set here, its data directory unless cfg names one, and its
// output goes to the test's log if it fails (and to cfg.Stderr too).
func launchWith(t *testing.T, cfg launcher.Config) *launcher.Cluster {
	t.Helper()
	logs := &testcluster.FailureLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster output:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	if cfg.Data == "" {
		cfg.Data = t.TempDir()
	}
	cfg.Listen = "127.0.0.1:0"
	if cfg.Stderr != nil {
		cfg.Stderr = io.MultiWriter(logs, cfg.Stderr)
	} else {
		cfg.Stderr = logs
	}
	cfg.ProxyArgs = append([]string{"--heartbeat", testHeartbeat.String(), "--timeout", testTimeoutOp.String()}, cfg.ProxyArgs...)
	cfg.ServerArgs = append([]string{"--heartbeat", testHeartbeat.String()}, cfg.ServerArgs...)
	cfg.StopGrace = 5 * time.Second
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * testTimeout
	}
	c, err := launcher.Launch(ctx, cfg)
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
	nobody, err := curvekey.Generate()
	must(t, err)
	s, err := server.Start(context.Background(), server.Config{
		Dir:     dir,
		Proxies: []string{curvekey.JoinEndpoint("tcp://127.0.0.1:1", nobody.Public)}, // nothing listens there
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
func serverInfo(t *testing.T, c *launcher.Cluster, id string) launcher.ServerInfo {
	t.Helper()
	for _, s := range c.Servers() {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no server %s", id)
	return launcher.ServerInfo{}
}
