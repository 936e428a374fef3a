package membership

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/hashicorp/raft"
)

// configurationOf is a Raft configuration of voters with the given IDs.
func configurationOf(ids ...string) raft.Configuration {
	var c raft.Configuration
	for _, id := range ids {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(id + "-addr")})
	}
	return c
}

// TestTheRecordsOfProxiesThatLeftTheGroupArePruned: a committed Raft
// configuration without a recorded proxy deletes its record, on every
// replica alike (a state built by the same log encodes to the same bytes),
// and a snapshot carries the table as pruned; one that holds every
// recorded proxy changes nothing.
func TestTheRecordsOfProxiesThatLeftTheGroupArePruned(t *testing.T) {
	replay := func() *fsm {
		f := configured(t)
		f.StoreConfiguration(2, configurationOf("p1", "p2", "p3"))
		for i, id := range []string{"p1", "p2", "p3"} {
			if err := applyRaw(f, uint64(3+i), proxyCommand(info(id, i)).encode()); err != nil {
				t.Fatal(err)
			}
		}
		signalled(f)
		f.StoreConfiguration(6, configurationOf("p1", "p2", "p3"))
		if signalled(f) || len(f.proxies()) != 3 {
			t.Fatalf("a configuration with every proxy changed the table: %+v", f.proxies())
		}
		f.StoreConfiguration(7, configurationOf("p1", "p3"))
		return f
	}
	f := replay()
	if !signalled(f) {
		t.Fatal("pruning a proxy did not signal a change")
	}
	if got := f.proxies(); !slices.Equal(got, []ProxyInfo{info("p1", 0), info("p3", 2)}) {
		t.Fatalf("proxies after p2 left: %+v", got)
	}
	if v := f.current(); !slices.Equal(v.Proxies, []string{"tcp://h:30", "tcp://h:32"}) {
		t.Fatalf("client endpoints after p2 left: %v", v.Proxies)
	}
	snap := snapshotBytes(t, f)
	if other := snapshotBytes(t, replay()); !bytes.Equal(snap, other) {
		t.Fatal("two replicas of the same log hold different states")
	}
	g := newFSM(3)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if got := g.proxies(); len(got) != 2 || slices.ContainsFunc(got, func(p ProxyInfo) bool { return p.ID == "p2" }) {
		t.Fatalf("restored proxies %+v, want p1 and p3", got)
	}
}

// TestARemovedProxyLeavesTheTableAndIsNotRecordedAgain: three proxies
// record themselves; the leader removes one from the Raft group, and every
// remaining node drops its record; recording it again is refused.
func TestARemovedProxyLeavesTheTableAndIsNotRecordedAgain(t *testing.T) {
	ctx := testContext(t)
	nodes := openRecordingGroup(t)
	leader := waitLeader(t, nodes...)
	waitFor(t, "every proxy recorded on every node", func() bool {
		for _, n := range nodes {
			if len(n.Proxies()) != 3 {
				return false
			}
		}
		return true
	})
	gone := followerOf(nodes, leader)
	if err := leader.RemoveVoter(ctx, gone.cfg.ID); err != nil {
		t.Fatal(err)
	}
	var rest []*Node
	for _, n := range nodes {
		if n != gone {
			rest = append(rest, n)
		}
	}
	waitFor(t, "the removed proxy's record gone from every node left", func() bool {
		for _, n := range rest {
			if len(n.Proxies()) != 2 || slices.Contains(n.View().Proxies, gone.cfg.Self.Client) {
				return false
			}
		}
		return true
	})
	err := leader.ApplyCommand(ctx, proxyCommand(ProxyInfo{ID: gone.cfg.ID, Raft: gone.Addr(), Client: "tcp://h:99"}).encode())
	if !errors.Is(err, ErrNotInGroup) {
		t.Fatalf("recording the removed proxy again: %v, want ErrNotInGroup", err)
	}
	for _, n := range rest {
		if p := n.Proxies(); len(p) != 2 {
			t.Fatalf("%s: proxies %+v after the refused record", n.cfg.ID, p)
		}
	}
}
