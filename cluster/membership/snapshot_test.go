package membership

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"shoplist/cluster/placement"
)

// joinAll joins s1..sk through n and removes s2, returning the epoch.
func joinAll(t *testing.T, n *Node, k int) uint64 {
	t.Helper()
	ctx := testContext(t)
	for i := 1; i <= k; i++ {
		if err := n.Join(ctx, fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Remove(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	return n.View().Epoch
}

func TestRaftSnapshotRestoresOnRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig("p1", "p1-addr")
	cfg.Dir, cfg.Snapshots.Trailing = dir, 1
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	epoch := joinAll(t, n, 5)
	servers := n.View().Ring.Servers()
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	cfg = testConfig("p1", "p1-addr")
	cfg.Dir = dir
	n = openNode(t, cfg)
	// Raft restores the latest snapshot inside Open, before any election:
	// the state is there at once, not after the log is replayed.
	if v := n.View(); v.Epoch != epoch || !slices.Equal(v.Ring.Servers(), servers) {
		t.Fatalf("right after reopen: epoch %d ring %v, want %d %v", v.Epoch, v.Ring.Servers(), epoch, servers)
	}
	waitLeader(t, n)
	if err := n.Join(testContext(t), "s2"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("Join of a server removed before the snapshot: %v, want placement.ErrRemoved", err)
	}
	if err := n.Join(testContext(t), "s9"); err != nil {
		t.Fatal(err)
	}
	if got := n.View().Epoch; got != epoch+1 {
		t.Fatalf("epoch %d, want %d", got, epoch+1)
	}
}

func TestNewVoterReceivesTheStateBySnapshot(t *testing.T) {
	cfg := testConfig("p1", "p1-addr")
	cfg.Snapshots.Trailing = 1
	leader := openNode(t, cfg)
	waitLeader(t, leader)
	joinAll(t, leader, 4)
	if err := leader.raft.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	// One change after the snapshot: the new node needs the snapshot and
	// the log after it.
	if err := leader.Join(testContext(t), "s7"); err != nil {
		t.Fatal(err)
	}
	first, err := leader.stores.logs.FirstIndex()
	if err != nil || first <= 1 {
		t.Fatalf("the leader's log starts at %d (%v): not compacted, the snapshot would not be needed", first, err)
	}

	fwd := NewInmemForwarder()
	fwd.Register("p1-addr", leader)
	cfg = testConfig("p2", "p2-addr")
	cfg.NoBootstrap, cfg.Forwarder = true, fwd
	joiner := openNode(t, cfg)
	connect(leader, joiner)
	if err := leader.AddVoter(testContext(t), "p2", "p2-addr"); err != nil {
		t.Fatalf("AddVoter: %v", err)
	}
	waitEpoch(t, leader.View().Epoch, joiner)
	sameRings(t, leader, joiner)
	if got := joiner.raft.Stats()["last_snapshot_index"]; got == "0" || got == "" {
		t.Fatalf("the new node's last snapshot index is %q: it did not install a snapshot", got)
	}
	if err := joiner.Join(testContext(t), "s2"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("Join of a removed server through the new node: %v, want placement.ErrRemoved", err)
	}
}
