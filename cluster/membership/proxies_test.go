package membership

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"
)

// info is a complete ProxyInfo for proxy id, numbered by k.
func info(id string, k int) ProxyInfo {
	return ProxyInfo{ID: id, Raft: fmt.Sprintf("h:%d", 10+k), Admin: fmt.Sprintf("h:%d", 20+k), Client: fmt.Sprintf("tcp://h:%d", 30+k)}
}

// signalled reports whether f's Changes holds a value, and drains it.
func signalled(f *fsm) bool {
	select {
	case <-f.changes:
		return true
	default:
		return false
	}
}

func TestProxyRecordsAreUpsertedWithoutChangingTheEpoch(t *testing.T) {
	f := newFSM(3)
	// A proxy may be recorded before the ring is configured.
	if err := applyRaw(f, 1, proxyCommand(info("p2", 2)).encode()); err != nil {
		t.Fatalf("proxy before configure: %v", err)
	}
	if !signalled(f) || f.current().Epoch != 0 || !slices.Equal(f.current().Proxies, []string{"tcp://h:32"}) {
		t.Fatalf("after p2: epoch %d proxies %v", f.current().Epoch, f.current().Proxies)
	}
	if err := applyRaw(f, 2, configureCommand(3, 3).encode()); err != nil {
		t.Fatal(err)
	}
	signalled(f)
	steps := []struct {
		p       ProxyInfo
		changed bool
		want    []string // placement.View.Proxies after
	}{
		{info("p1", 1), true, []string{"tcp://h:31", "tcp://h:32"}}, // sorted by proxy ID, not by arrival
		{info("p1", 1), false, []string{"tcp://h:31", "tcp://h:32"}},
		{ProxyInfo{ID: "p1", Raft: "h:99", Admin: "h:98", Client: "tcp://h:97"}, true, []string{"tcp://h:97", "tcp://h:32"}},
		{ProxyInfo{ID: "p0", Raft: "h:1"}, true, []string{"tcp://h:97", "tcp://h:32"}}, // no client endpoint yet: not listed
	}
	for i, s := range steps {
		if err := applyRaw(f, uint64(3+i), proxyCommand(s.p).encode()); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		v := f.current()
		if got := signalled(f); got != s.changed {
			t.Fatalf("step %d: Changes signalled %v, want %v", i, got, s.changed)
		}
		if v.Epoch != 1 || !slices.Equal(v.Proxies, s.want) {
			t.Fatalf("step %d: epoch %d proxies %v, want 1 %v", i, v.Epoch, v.Proxies, s.want)
		}
	}
	if got, _ := f.proxy("p1"); got.Raft != "h:99" {
		t.Fatalf("p1 recorded as %+v after its update", got)
	}
	// The table is bounded; an update of a recorded proxy still passes.
	for i := len(f.proxies()); i < MaxProxies; i++ {
		if err := applyRaw(f, uint64(10+i), proxyCommand(info(fmt.Sprintf("q%d", i), i)).encode()); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotBytes(t, f)
	if err := applyRaw(f, 100, proxyCommand(info("extra", 1)).encode()); !errors.Is(err, ErrFull) {
		t.Fatalf("proxy %d: %v, want ErrFull", MaxProxies+1, err)
	}
	if after := snapshotBytes(t, f); !bytes.Equal(before, after) {
		t.Fatal("a refused proxy record changed the state")
	}
	if err := applyRaw(f, 101, proxyCommand(info("p2", 7)).encode()); err != nil {
		t.Fatalf("update of a recorded proxy in a full table: %v", err)
	}
}

func TestProxyCommandsRefuseBadRecords(t *testing.T) {
	for name, p := range map[string]ProxyInfo{
		"bad ID":          {ID: "-p", Raft: "h:1"},
		"no raft address": {ID: "p1"},
		"space":           {ID: "p1", Raft: "h:1", Admin: "h :2"},
		"client scheme":   {ID: "p1", Raft: "h:1", Client: "h:3"},
		"client upper":    {ID: "p1", Raft: "h:1", Client: "TCP://h:3"},
		"long address":    {ID: "p1", Raft: "h:1", Admin: string(bytes.Repeat([]byte{'a'}, MaxAddrLen+1))},
	} {
		if _, err := decodeCommand(proxyCommand(p).encode()); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
		if _, err := newState().apply(proxyCommand(p)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s applied: %v, want ErrMalformed", name, err)
		}
	}
	longest := ProxyInfo{ID: string(bytes.Repeat([]byte{'p'}, 64)), Raft: string(bytes.Repeat([]byte{'a'}, MaxAddrLen)),
		Admin: string(bytes.Repeat([]byte{'b'}, MaxAddrLen)), Client: "tcp://" + string(bytes.Repeat([]byte{'c'}, MaxAddrLen-6))}
	if p := proxyCommand(longest).encode(); len(p) > MaxCommandSize {
		t.Fatalf("the longest proxy command is %d bytes, over MaxCommandSize %d", len(p), MaxCommandSize)
	} else if _, err := decodeCommand(p); err != nil {
		t.Fatalf("the longest proxy command: %v", err)
	}
}

func TestSnapshotKeepsTheProxies(t *testing.T) {
	f := configured(t)
	for i, c := range []command{joinCommand("s1"), proxyCommand(info("p2", 2)), proxyCommand(info("p1", 1)), leaveCommand("s1")} {
		if err := applyRaw(f, uint64(2+i), c.encode()); err != nil {
			t.Fatal(err)
		}
	}
	want := snapshotBytes(t, f)
	g := newFSM(3)
	if err := applyRaw(g, 1, proxyCommand(info("x1", 5)).encode()); err != nil {
		t.Fatal(err)
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader(want))); err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, g); !bytes.Equal(got, want) {
		t.Fatalf("restored state encodes differently:\n got %x\nwant %x", got, want)
	}
	if got := g.proxies(); !slices.Equal(got, []ProxyInfo{info("p1", 1), info("p2", 2)}) {
		t.Fatalf("restored proxies %+v", got)
	}
	if v := g.current(); !slices.Equal(v.Proxies, []string{"tcp://h:31", "tcp://h:32"}) || v.Ring.Len() != 0 || !slices.Equal(v.Leaving, []string{"s1"}) {
		t.Fatalf("restored view: proxies %v ring %v leaving %v", v.Proxies, v.Ring.Servers(), v.Leaving)
	}
}

func TestVersion1SnapshotsStillRestore(t *testing.T) {
	// [1, epoch 4, n 3, vnodes 3, [[s1, active], [s2, leaving]], [s3]] as
	// the previous version wrote it.
	v1 := []byte{0x96, 0x01, 0x04, 0x03, 0x03,
		0x92, 0x92, 0xa2, 's', '1', 0x01, 0x92, 0xa2, 's', '2', 0x02,
		0x91, 0xa2, 's', '3'}
	f := newFSM(3)
	if err := f.Restore(io.NopCloser(bytes.NewReader(v1))); err != nil {
		t.Fatalf("Restore of a version 1 snapshot: %v", err)
	}
	st := f.copyState()
	if st.epoch != 4 || st.n != 3 || st.vnodes != 3 || !slices.Equal(st.sortedMembers(), []Member{{"s1", Active}, {"s2", Leaving}}) ||
		!slices.Equal(st.sortedRemoved(), []string{"s3"}) || len(st.proxies) != 0 {
		t.Fatalf("restored %+v", st)
	}
	// Written back as the current version, with an empty proxies table
	// and nobody admitted.
	want := append([]byte{0x98, SnapshotVersion}, v1[2:]...)
	want = append(want, 0x90, 0x90)
	if got := snapshotBytes(t, f); !bytes.Equal(got, want) {
		t.Fatalf("re-encoded as %x, want %x", got, want)
	}
}

func TestImportKeepsTheRecordedProxies(t *testing.T) {
	f := newFSM(3)
	if err := applyRaw(f, 1, proxyCommand(info("p1", 1)).encode()); err != nil {
		t.Fatal(err)
	}
	seed := seedState()
	seed.proxies["p1"] = info("p1", 9) // stale: the group's own record wins
	seed.proxies["p0"] = info("p0", 0)
	if err := applyRaw(f, 2, importCommand(seed).encode()); err != nil {
		t.Fatal(err)
	}
	if got := f.proxies(); !slices.Equal(got, []ProxyInfo{info("p0", 0), info("p1", 1)}) {
		t.Fatalf("proxies after the import: %+v", got)
	}
	if v := f.current(); v.Epoch != 7 || !slices.Equal(v.Ring.Servers(), []string{"s1", "s3"}) {
		t.Fatalf("view after the import: epoch %d ring %v", v.Epoch, v.Ring.Servers())
	}
}

// openRecordingGroup opens a group of three nodes p1..p3 on the in-memory
// transport, each recording itself (Config.Self: admin h:20+i, client
// tcp://h:30+i), connected to each other.
func openRecordingGroup(t *testing.T) []*Node {
	t.Helper()
	fwd := NewInmemForwarder()
	ids := []string{"p1", "p2", "p3"}
	var voters []Voter
	for _, id := range ids {
		voters = append(voters, Voter{ID: id, Addr: id + "-addr"})
	}
	var nodes []*Node
	for i, id := range ids {
		cfg := testConfig(id, id+"-addr")
		cfg.Voters, cfg.Forwarder = voters, fwd
		cfg.Self = &ProxyInfo{Raft: id + "-addr", Admin: fmt.Sprintf("h:%d", 20+i), Client: fmt.Sprintf("tcp://h:%d", 30+i)}
		n := openNode(t, cfg)
		fwd.Register(id+"-addr", n)
		nodes = append(nodes, n)
	}
	connect(nodes...)
	return nodes
}

func TestNodesRecordThemselvesAndFollowSetSelf(t *testing.T) {
	ctx := testContext(t)
	nodes := openRecordingGroup(t)
	leader := waitLeader(t, nodes...)
	want := []string{"tcp://h:30", "tcp://h:31", "tcp://h:32"}
	waitFor(t, "every proxy recorded on every node", func() bool {
		for _, n := range nodes {
			if !slices.Equal(n.View().Proxies, want) {
				return false
			}
		}
		return true
	})
	for _, n := range nodes {
		if n.IsLeader() != (n == leader) {
			t.Fatalf("%s: IsLeader %v; the leader is %s", n.cfg.ID, n.IsLeader(), leader.cfg.ID)
		}
		if a, ok := n.AdminAddr(leader.Addr()); !ok || a != leader.cfg.Self.Admin {
			t.Fatalf("%s: the leader's admin address %q, %v; want %q", n.cfg.ID, a, ok, leader.cfg.Self.Admin)
		}
	}
	if _, ok := leader.AdminAddr("nowhere"); ok {
		t.Fatal("AdminAddr found an unknown Raft address")
	}
	if e := leader.View().Epoch; e != 1 {
		t.Fatalf("epoch %d after the proxies recorded themselves, want 1: records do not change the ring", e)
	}

	// A follower's new client endpoint (a restart on another port) goes
	// through the leader to every node.
	follower := followerOf(nodes, leader)
	moved := *follower.cfg.Self
	moved.Client = "tcp://h:99"
	if err := follower.SetSelf(moved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower's new endpoint on every node", func() bool {
		for _, n := range nodes {
			if !slices.Contains(n.View().Proxies, "tcp://h:99") {
				return false
			}
		}
		return follower.SelfCommitted()
	})
	st, err := leader.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Proxies) != 3 || st.Proxies[slices.IndexFunc(st.Proxies, func(p ProxyInfo) bool { return p.ID == follower.cfg.ID })].Client != "tcp://h:99" {
		t.Fatalf("status proxies %+v", st.Proxies)
	}
	if err := follower.SetSelf(ProxyInfo{Raft: ""}); !errors.Is(err, ErrConfig) {
		t.Fatalf("SetSelf without a Raft address: %v, want ErrConfig", err)
	}
}

func TestGroupTimeoutsAreChosenForAGroup(t *testing.T) {
	group := Timeouts{Heartbeat: 300 * time.Millisecond, Election: 300 * time.Millisecond, LeaderLease: 150 * time.Millisecond, Commit: 5 * time.Millisecond}
	heartbeat := func(n *Node) time.Duration { return n.raft.ReloadableConfig().HeartbeatTimeout }

	dir := t.TempDir()
	cfg := testConfig("p1", "p1-addr")
	cfg.Dir, cfg.GroupTimeouts = dir, group
	lone, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := heartbeat(lone); got != fastTimeouts.Heartbeat {
		t.Fatalf("a lone voter's heartbeat timeout %v, want %v", got, fastTimeouts.Heartbeat)
	}
	waitLeader(t, lone)
	// Reopened, it finds itself alone in its stored configuration.
	must(t, lone.Close())
	cfg = testConfig("p1", "p1-addr")
	cfg.Dir, cfg.GroupTimeouts = dir, group
	lone, err = Open(cfg)
	must(t, err)
	if got := heartbeat(lone); got != fastTimeouts.Heartbeat {
		t.Fatalf("a reopened lone voter's heartbeat timeout %v, want %v", got, fastTimeouts.Heartbeat)
	}
	waitLeader(t, lone)

	cfg = testConfig("p2", "p2-addr")
	cfg.NoBootstrap, cfg.GroupTimeouts = true, group
	joiner := openNode(t, cfg)
	if got := heartbeat(joiner); got != group.Heartbeat {
		t.Fatalf("a joining node's heartbeat timeout %v, want %v", got, group.Heartbeat)
	}
	connect(lone, joiner)
	if err := lone.AddVoter(testContext(t), "p2", "p2-addr"); err != nil {
		t.Fatal(err)
	}
	// A lone leader commits the entry that adds a voter on its own: raft
	// v1.7.3's appendConfigurationEntry calls dispatchLogs, which counts
	// the leader's match, before commitment.setConfiguration adds the new
	// voter. The added voter learns of it only by replication: wait for
	// that before the leader goes.
	waitFor(t, "InGroup true for the added voter", joiner.InGroup)
	must(t, lone.Close())
	// Reopened, the first node finds two voters in its stored
	// configuration.
	cfg = testConfig("p1", "p1-addr")
	cfg.Dir, cfg.GroupTimeouts = dir, group
	again := openNode(t, cfg)
	if got := heartbeat(again); got != group.Heartbeat {
		t.Fatalf("a reopened member of a group of two: heartbeat timeout %v, want %v", got, group.Heartbeat)
	}
	if !again.InGroup() {
		t.Fatal("InGroup false for a voter at its address")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
