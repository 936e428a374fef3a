package membership

import (
	"errors"
	"strings"
	"testing"

	"shoplist/cluster/placement"

	"github.com/hashicorp/raft"
)

// startGroup starts three nodes on connected in-memory transports, each
// bootstrapped with the same three voters; fwd (if not nil) reaches every
// node.
func startGroup(t *testing.T, fwd *InmemForwarder) []*Node {
	t.Helper()
	ids := []string{"p1", "p2", "p3"}
	var voters []Voter
	for _, id := range ids {
		voters = append(voters, Voter{ID: id, Addr: id + "-addr"})
	}
	var nodes []*Node
	for _, id := range ids {
		cfg := testConfig(id, id+"-addr")
		cfg.Voters = voters
		if fwd != nil {
			cfg.Forwarder = fwd
		}
		n := openNode(t, cfg)
		if fwd != nil {
			fwd.Register(id+"-addr", n)
		}
		nodes = append(nodes, n)
	}
	connect(nodes...)
	return nodes
}

// followerOf returns a node of nodes that is not leader.
func followerOf(nodes []*Node, leader *Node) *Node {
	for _, n := range nodes {
		if n != leader {
			return n
		}
	}
	return nil
}

func TestThreeNodesJoinThroughFollowerAndSurviveLeaderLoss(t *testing.T) {
	ctx := testContext(t)
	fwd := NewInmemForwarder()
	nodes := startGroup(t, fwd)
	leader := waitLeader(t, nodes...)
	waitEpoch(t, 1, nodes...)

	follower := followerOf(nodes, leader)
	if err := follower.Join(ctx, "s1"); err != nil {
		t.Fatalf("Join through follower %s: %v", follower.cfg.ID, err)
	}
	if !leader.View().Has("s1") {
		t.Fatal("Join returned before the leader applied it")
	}
	waitEpoch(t, 2, nodes...)
	sameRings(t, nodes...)
	for _, n := range nodes {
		if !n.View().Has("s1") {
			t.Fatalf("%s does not have s1", n.cfg.ID)
		}
	}

	// The leader goes away; the other two elect one of themselves.
	old := leader.cfg.ID
	if err := leader.Close(); err != nil {
		t.Fatal(err)
	}
	var survivors []*Node
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
			n.trans.(*raft.InmemTransport).Disconnect(leader.trans.LocalAddr())
		}
	}
	leader = waitLeader(t, survivors...)
	if leader.cfg.ID == old {
		t.Fatalf("the closed node %s is still the leader", old)
	}
	follower = followerOf(survivors, leader)
	if err := follower.Join(ctx, "s2"); err != nil {
		t.Fatalf("Join through follower %s after the leader's loss: %v", follower.cfg.ID, err)
	}
	waitEpoch(t, 3, survivors...)
	sameRings(t, survivors...)
	for _, n := range survivors {
		if v := n.View(); !v.Has("s1") || !v.Has("s2") || v.Ring.Len() != 2 {
			t.Fatalf("%s: ring %v, want [s1 s2]", n.cfg.ID, v.Ring.Servers())
		}
	}
	st, err := follower.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LeaderID != leader.cfg.ID || len(st.Voters) != 3 || st.Epoch != 3 || st.RaftState != "Follower" {
		t.Fatalf("follower status: %+v", st)
	}
}

func TestFollowerWithoutForwarderNamesTheLeader(t *testing.T) {
	nodes := startGroup(t, nil)
	leader := waitLeader(t, nodes...)
	err := followerOf(nodes, leader).Join(testContext(t), "s1")
	if !errors.Is(err, ErrNotLeader) || !strings.Contains(err.Error(), leader.cfg.ID) {
		t.Fatalf("Join on a follower without a forwarder: %v, want ErrNotLeader naming %s", err, leader.cfg.ID)
	}
	for _, n := range nodes {
		if n.View().Has("s1") {
			t.Fatalf("%s has s1 although the Join failed", n.cfg.ID)
		}
	}
}

func TestRefusalsTravelBackThroughTheForwarder(t *testing.T) {
	ctx := testContext(t)
	nodes := startGroup(t, NewInmemForwarder())
	leader := waitLeader(t, nodes...)
	follower := followerOf(nodes, leader)
	if err := follower.Join(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := follower.Remove(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower to apply the removal", func() bool { return !follower.View().Has("s1") })
	if err := follower.Join(ctx, "s1"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("Join of a removed server through a follower: %v, want placement.ErrRemoved", err)
	}
	if err := follower.Remove(ctx, "s9"); !errors.Is(err, placement.ErrNotMember) {
		t.Fatalf("Remove of a non-member through a follower: %v, want placement.ErrNotMember", err)
	}
}
