package membership

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// testTimeout bounds every wait; waits end as soon as their condition
// holds, so it only matters when a test fails.
const testTimeout = 10 * time.Second

// fastTimeouts elect a leader in tens of milliseconds (raft's own tests
// use the same).
var fastTimeouts = Timeouts{
	Heartbeat:   50 * time.Millisecond,
	Election:    50 * time.Millisecond,
	LeaderLease: 50 * time.Millisecond,
	Commit:      5 * time.Millisecond,
}

// testLogger is quiet unless SHOPLIST_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SHOPLIST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: levelTrace}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// waitFor polls cond until it holds or testTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// testConfig is a Config on an in-memory transport at addr (a fresh one
// each time, so a reopened node keeps its address).
func testConfig(id, addr string) Config {
	_, trans := raft.NewInmemTransport(raft.ServerAddress(addr))
	return Config{ID: id, Transport: trans, N: 3, VNodes: 3, Timeouts: fastTimeouts, Logger: testLogger()}
}

// openNode opens a Node closed at the end of the test.
func openNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open %s: %v", cfg.ID, err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close %s: %v", cfg.ID, err)
		}
	})
	return n
}

// connect links the nodes' in-memory transports both ways.
func connect(nodes ...*Node) {
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.trans.(*raft.InmemTransport).Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
}

// waitLeader waits until exactly one of nodes leads and all of them know
// it, and returns it.
func waitLeader(t *testing.T, nodes ...*Node) *Node {
	t.Helper()
	var leader *Node
	waitFor(t, "a leader known to every node", func() bool {
		leader = nil
		for _, n := range nodes {
			if n.raft.State() == raft.Leader {
				if leader != nil {
					return false
				}
				leader = n
			}
		}
		if leader == nil {
			return false
		}
		for _, n := range nodes {
			if id, _ := n.Leader(); id != leader.cfg.ID {
				return false
			}
		}
		return true
	})
	return leader
}

// waitEpoch waits until every node's committed view has epoch e.
func waitEpoch(t *testing.T, e uint64, nodes ...*Node) {
	t.Helper()
	waitFor(t, "every node at the epoch", func() bool {
		for _, n := range nodes {
			if n.View().Epoch != e {
				return false
			}
		}
		return true
	})
}

// sameRings fails unless every node's view is the same ring at the same
// epoch: same servers, same virtual-node table.
func sameRings(t *testing.T, nodes ...*Node) {
	t.Helper()
	first := nodes[0].View()
	for _, n := range nodes[1:] {
		v := n.View()
		if v.Epoch != first.Epoch || !slices.Equal(v.Ring.Servers(), first.Ring.Servers()) || v.Ring.String() != first.Ring.String() {
			t.Fatalf("%s: epoch %d ring %v; %s: epoch %d ring %v",
				nodes[0].cfg.ID, first.Epoch, first.Ring.Servers(), n.cfg.ID, v.Epoch, v.Ring.Servers())
		}
	}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

// snapshotBytes persists a snapshot of f and returns its bytes.
func snapshotBytes(t *testing.T, f *fsm) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	snap.Release()
	if !sink.closed {
		t.Fatal("Persist did not close the sink")
	}
	return sink.Bytes()
}
