package server

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// gate holds the first caller after it is armed until it is released; any
// other caller passes.
type gate struct {
	armed   atomic.Bool
	entered chan struct{} // closed when the held caller arrives
	release chan struct{} // closed by the test
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

// hold is the hook: it holds the first caller after arm.
func (g *gate) hold() {
	if g.armed.CompareAndSwap(true, false) {
		close(g.entered)
		<-g.release
	}
}

// in reports whether the held caller has arrived.
func (g *gate) in() bool {
	select {
	case <-g.entered:
		return true
	default:
		return false
	}
}

// replyTo reads what the server sends until the answer to request id
// comes, which it returns; each Handoff meanwhile goes to answer (nil:
// none is expected).
func (p *fakeProxy) replyTo(id uint64, answer func(h handoff) *protocol.Message) protocol.Message {
	p.t.Helper()
	for {
		_, m, _ := p.recv()
		switch {
		case m.RequestID == id && m.Type != protocol.TypeHandoff:
			return m
		case m.Type == protocol.TypeHandoff && answer != nil:
			hb, err := protocol.DecodeHintBody(m.Body)
			must(p.t, err)
			if r := answer(handoff{msg: m, owner: hb.Owner, list: hb.List}); r != nil {
				p.send(p.server, *r)
			}
		default:
			p.t.Fatalf("waiting for the answer to request %d: unexpected %v", id, m.Type)
		}
	}
}

// orphans returns the lists the server stores that its adopted ring does
// not give it and that no hint of its own moves on.
func orphans(t *testing.T, s *Server) []uuid.UUID {
	t.Helper()
	hints, err := s.Store().Hints()
	must(t, err)
	hinted := map[uuid.UUID]bool{}
	for _, h := range hints {
		hinted[h.List] = true
	}
	var out []uuid.UUID
	for _, lp := range s.Store().ListPositions() {
		if !s.ownsByRing(lp.List) && !hinted[lp.List] {
			out = append(out, lp.List)
		}
	}
	return out
}

// TestAStoreQueuedBeforeANewEpochIsRefusedWhereItCommits: a Store routed
// under epoch 2, when the server owned every list, is queued; the server
// then adopts epoch 3, in which it is leaving, and its rebalance pass runs
// (finding nothing to move) before a worker serves the Store. The Store is
// refused with StaleEpoch and leaves nothing behind, so the leaving server
// reports itself empty; committed, it would be a copy no hint moves and
// that nothing else ever looks at.
func TestAStoreQueuedBeforeANewEpochIsRefusedWhereItCommits(t *testing.T) {
	g := newGate()
	s, p := startWelcomed(t, func(c *Config) { rebalanceConfig(c); c.beforeJob = g.hold })
	p.announce(2, 1, []string{"s1"}, nil)
	p.serveUntil("the first rebalance pass", nil, func() bool { return s.Stats().RebalancePasses == 1 })

	l := newList(t, time.Now, "milk")
	g.armed.Store(true)
	st := protocol.NewStore(p.id(), 2, l.ID(), l.Encode())
	p.send(p.server, st)
	p.serveUntil("a worker holding the Store, queued under epoch 2", nil, g.in)
	p.announce(3, 1, []string{"s2"}, []string{"s1"})
	p.serveUntil("the rebalance pass of epoch 3", nil, func() bool { return s.Stats().RebalancePasses == 2 })
	close(g.release)

	reply := p.replyTo(st.RequestID, nil)
	if o := orphans(t, s); len(o) != 0 {
		t.Fatalf("the Store was answered %v and left lists %v that the server does not own and no hint moves", reply.Type, o)
	}
	wantError(t, reply, protocol.CodeStaleEpoch)
	// Routed under the server's own epoch to a server that owns nothing
	// in it, a Store is refused too.
	wantError(t, p.call(protocol.NewStore(p.id(), 3, l.ID(), l.Encode())), protocol.CodeNotFound)
	p.serveUntil("a report at epoch 3 of an empty server", nil, func() bool {
		r := p.lastReport()
		return r.epoch == 3 && r.body == protocol.ServerReportBody{}
	})
}

// TestARebalancePassScansAWriteCheckedUnderTheOldRing: a Store passes the
// ownership check under epoch 2 and is held there, under its list's lock,
// while the server adopts epoch 3 (leaving) and starts its rebalance pass.
// The pass waits for the write, so its scan finds the list and hands it to
// its new owner, after which the server drops its copy and reports itself
// empty: the acknowledged write is on the owner, and nothing is left over.
func TestARebalancePassScansAWriteCheckedUnderTheOldRing(t *testing.T) {
	g := newGate()
	var fences atomic.Int32
	s, p := startWelcomed(t, func(c *Config) {
		rebalanceConfig(c)
		c.admitted = g.hold
		c.beforeFence = func() { fences.Add(1) }
	})
	p.announce(2, 1, []string{"s1"}, nil)
	p.serveUntil("the first rebalance pass", nil, func() bool { return s.Stats().RebalancePasses == 1 })

	l := newList(t, time.Now, "milk")
	g.armed.Store(true)
	st := protocol.NewStore(p.id(), 2, l.ID(), l.Encode())
	p.send(p.server, st)
	p.serveUntil("the Store checked under epoch 2 and held before its commit", nil, g.in)
	p.announce(3, 1, []string{"s2"}, []string{"s1"})
	p.serveUntil("the rebalance pass of epoch 3 started", nil, func() bool {
		return fences.Load() == 2 || s.Stats().RebalancePasses == 2
	})
	close(g.release)

	var delivered []byte
	answer := func(h handoff) *protocol.Message {
		if h.owner != "s2" || h.msg.ListID != l.ID() {
			t.Fatalf("Handoff of %s for %s, want %s for s2", h.msg.ListID, h.owner, l.ID())
		}
		delivered = h.list
		r := protocol.NewStoreReply(h.msg.RequestID, h.msg.ListID)
		return &r
	}
	if reply := p.replyTo(st.RequestID, answer); reply.Type != protocol.TypeStoreReply {
		t.Fatalf("the Store checked under the ring that made the server an owner was answered %v (%v)", reply.Type, reply.Err())
	}
	p.serveUntil("the list handed to s2 and a report at epoch 3 of an empty server", answer, func() bool {
		r := p.lastReport()
		return r.epoch == 3 && r.body == protocol.ServerReportBody{}
	})
	if !bytes.Equal(delivered, l.Encode()) {
		t.Fatalf("s2 was handed %x, want the acknowledged list", delivered)
	}
}
