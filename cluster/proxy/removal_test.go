package proxy

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"shoplist/cluster/placement"
	"shoplist/protocol"
)

// announceOf waits until s is told about epoch, skipping older ones.
func announceOf(t *testing.T, s *fakeServer, epoch uint64) protocol.EpochBody {
	t.Helper()
	for {
		b := recvAnnounce(t, s)
		if b.Epoch > epoch {
			t.Fatalf("%s: announced epoch %d, want %d first", s.id, b.Epoch, epoch)
		}
		if b.Epoch == epoch {
			return b
		}
	}
}

// sendReport sends a ServerReport from s at epoch.
func sendReport(t *testing.T, s *fakeServer, epoch uint64, b protocol.ServerReportBody) {
	t.Helper()
	m, err := protocol.NewServerReport(epoch, b)
	if err != nil {
		t.Fatal(err)
	}
	s.send(m)
}

// removalsInProgress reports the removals the proxy has started.
func removalsInProgress(t *testing.T, p *Proxy) (started int) {
	t.Helper()
	loopState(t, p, func(l *loop) { started = l.removals.InProgress() + int(l.stats.removals) })
	return started
}

func TestADeadServerIsRemovedByTheLeaderOnlyAfterTheDelay(t *testing.T) {
	const dead = 400 * time.Millisecond
	g := newGroupMembership()
	p := startGroupProxy(t, g, func(c *Config) {
		c.Heartbeat = 50 * time.Millisecond
		c.DeadAfter = dead
	})
	fakes := joinServers(t, p, 3)
	s1, s2, s3 := fakes["s1"], fakes["s2"], fakes["s3"]
	beat := func(ss ...*fakeServer) {
		for _, s := range ss {
			s.heartbeat()
		}
	}
	takeDown(t, p, fakes, s3)
	downAt := time.Now() // s3's last message came before

	// Not leading: however long s3 has been dead, it stays. IsLeader is
	// asked by every sweep (anti-entropy is off, and the test does not
	// ask for a Status here), so a call after the mark is a sweep that
	// would have removed s3 if this proxy led.
	mark := int64(-1)
	waitFor(t, "a sweep long after s3 died", func() bool {
		beat(s1, s2)
		if mark < 0 && time.Since(downAt) > 2*dead {
			mark = g.asked.Load()
		}
		return mark >= 0 && g.asked.Load() > mark
	})
	if n := removalsInProgress(t, p); n != 0 || len(g.removed()) != 0 {
		t.Fatalf("a follower removed a dead server (%d removals, %v)", n, g.removed())
	}

	// Leading from now: s3 goes once the delay has passed since then; s2,
	// down for a moment meanwhile, stays.
	led := time.Now()
	g.leader.Store(true)
	outage := time.Now()
	takeDown(t, p, map[string]*fakeServer{"s1": s1, "s2": s2}, s2)
	s2 = joinServer(t, p, "s2")
	outage2 := time.Since(outage)
	waitFor(t, "s3 removed", func() bool {
		beat(s1, s2)
		return !g.View().Has("s3")
	})
	rm := g.removed()
	if rm[0].id != "s3" || rm[0].at.Before(led.Add(dead)) {
		t.Fatalf("removal %+v, want s3 no earlier than %v after the proxy led", rm[0], dead)
	}
	for _, r := range rm {
		if r.id != "s3" && !(r.id == "s2" && outage2 >= dead) {
			t.Fatalf("%s was removed after a %v outage, shorter than %v", r.id, outage2, dead)
		}
	}
	if !g.View().Has("s1") {
		t.Fatal("a live server was removed")
	}
}

func TestADecommissionedServerIsRemovedOnceItReportsItHasDrained(t *testing.T) {
	g := newGroupMembership()
	g.leader.Store(true)
	p := startGroupProxy(t, g, nil)
	fakes := joinServers(t, p, 4)
	s1, s4 := fakes["s1"], fakes["s4"]
	if err := p.Decommission(context.Background(), "s4"); err != nil {
		t.Fatal(err)
	}
	// Every member, the leaving one included, hears that s4 is leaving.
	want := []string{"s1:Up", "s2:Up", "s3:Up", "s4:Leaving"}
	for _, s := range []*fakeServer{s1, s4} {
		if b := announceOf(t, s, 5); !slices.Equal(memberList(b), want) {
			t.Fatalf("%s: epoch 5 members %v, want %v", s.id, memberList(b), want)
		}
	}
	st := serverStatus(t, statusOf(t, p), "s4")
	if st.State != "leaving" || !st.Up || len(st.Positions) != 0 || len(st.Ranges) != 0 || st.Share != 0 {
		t.Fatalf("status of the leaving server %+v: want leaving, up, owning nothing", st)
	}

	// An empty report from before it was leaving, then one at the leaving
	// epoch that still holds lists: it stays.
	sendReport(t, s4, 4, protocol.ServerReportBody{})
	sendReport(t, s4, 5, protocol.ServerReportBody{Lists: 2, Hints: 2, Moving: 2})
	waitFor(t, "the second report", func() bool { return serverStatus(t, statusOf(t, p), "s4").Lists == 2 })
	if n := removalsInProgress(t, p); n != 0 {
		t.Fatal("a server still holding lists, or drained before it was leaving, was removed")
	}

	// Drained, but this proxy does not lead: it stays.
	g.leader.Store(false)
	last := serverStatus(t, statusOf(t, p), "s4").ReportedAt
	sendReport(t, s4, 5, protocol.ServerReportBody{})
	waitFor(t, "the drained report", func() bool { return serverStatus(t, statusOf(t, p), "s4").ReportedAt.After(last) })
	if n := removalsInProgress(t, p); n != 0 {
		t.Fatal("a follower removed a drained server")
	}

	// Leading again: removed without waiting for another report.
	g.leader.Store(true)
	waitFor(t, "s4 removed", func() bool { return !g.View().Has("s4") })
	if rm := g.removed(); len(rm) != 1 || rm[0].id != "s4" {
		t.Fatalf("removals %+v, want s4 alone", rm)
	}
	if b := announceOf(t, s1, 6); !slices.Equal(memberList(b), want[:3]) {
		t.Fatalf("epoch 6 members %v, want %v", memberList(b), want[:3])
	}
}

func TestDecommissionWithoutLeaveRemovesAtOnce(t *testing.T) {
	p := startProxy(t, nil)
	joinServers(t, p, 2)
	if err := p.Decommission(context.Background(), "s2"); err != nil {
		t.Fatal(err)
	}
	if v := p.members.View(); v.Has("s2") || !v.Has("s1") {
		t.Fatalf("ring %v after decommissioning s2", v.Ring.Servers())
	}
	if err := p.Decommission(context.Background(), "s9"); !errors.Is(err, placement.ErrNotMember) {
		t.Fatalf("decommissioning a non-member: %v, want placement.ErrNotMember", err)
	}
}

func TestHandoffsAroundALeavingServer(t *testing.T) {
	g := newGroupMembership()
	p := startGroupProxy(t, g, nil)
	fakes := joinServers(t, p, 6)
	l, body := sampleList(t, "rice")
	leaving := fakes[p.Owners(l.ID())[0]]
	if err := p.Decommission(context.Background(), leaving.id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the proxy to see the server leaving", func() bool { return p.view.Load().IsLeaving(leaving.id) })
	owners := p.Owners(l.ID())
	if slices.Contains(owners, leaving.id) {
		t.Fatal("a leaving server still owns lists")
	}
	var others []*fakeServer // active servers that do not own the list
	for id, s := range fakes {
		if id != leaving.id && !slices.Contains(owners, id) {
			others = append(others, s)
		}
	}
	holder, bystander := others[0], others[1]
	cases := []struct {
		name  string
		owner string
	}{
		{"owner leaving", leaving.id},
		{"owner active but not an owner of the list", bystander.id},
	}
	for i, tc := range cases {
		holder.sendFrames(mustHandoff(t, uint64(10+i), l.ID(), tc.owner, body)...)
		if eb := holder.recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != protocol.CodeNotFound {
			t.Errorf("%s: %v, want NotFound so the holder re-targets", tc.name, eb)
		}
	}
	// The leaving server hands a list to an owner: StoreReply, never OK,
	// so it drops its copy.
	owner := fakes[owners[0]]
	leaving.sendFrames(mustHandoff(t, 20, l.ID(), owner.id, body)...)
	st := owner.recvType(protocol.TypeStore)
	owner.send(protocol.NewStoreReply(st.RequestID, l.ID()))
	if r := leaving.recvType(protocol.TypeStoreReply); r.RequestID != 20 {
		t.Fatalf("StoreReply %d, want 20", r.RequestID)
	}
	bystander.silent(50 * time.Millisecond)
}
