package server

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/protocol"
)

// rebalanceConfig: a fixed server ID (so placements can be computed by
// the test), rounds every 50ms, and a short wait for unanswered Handoffs.
func rebalanceConfig(c *Config) {
	c.ID = "s1"
	c.HandoffInterval = 50 * time.Millisecond
	c.HandoffTimeout = time.Second
}

// epochMembers returns the members of an epoch: up ones and leaving ones,
// sorted by ID.
func epochMembers(up, leaving []string) []protocol.Member {
	var out []protocol.Member
	for _, id := range up {
		out = append(out, protocol.Member{ID: id, State: protocol.MemberUp})
	}
	for _, id := range leaving {
		out = append(out, protocol.Member{ID: id, State: protocol.MemberLeaving})
	}
	slices.SortFunc(out, func(a, b protocol.Member) int { return bytes.Compare([]byte(a.ID), []byte(b.ID)) })
	return out
}

// announce sends an EpochAnnounce notification (request ID 0: nothing to
// wait for, so Handoffs in flight are not missed).
func (p *fakeProxy) announce(epoch uint64, n int, up, leaving []string) {
	p.t.Helper()
	m, err := protocol.NewEpochAnnounce(0, protocol.EpochBody{Epoch: epoch, N: uint8(n), VNodes: 3, Members: epochMembers(up, leaving)})
	must(p.t, err)
	p.send(p.server, m)
}

// handoff is a Handoff the fake proxy received.
type handoff struct {
	msg   protocol.Message
	owner string
	list  []byte
}

// serveUntil reads what the server sends until done holds, heartbeating it
// and recording its reports; each Handoff goes to answer (nil: none is
// expected), whose reply (if any) is sent back; StoreReplies (to requests
// sent without waiting) are ignored. It fails the test after wait. done is
// polled after each message and at least every heartbeat interval: a
// condition poll, not a sleep.
func (p *fakeProxy) serveUntil(what string, answer func(h handoff) *protocol.Message, done func() bool) {
	p.t.Helper()
	poller := zmq.NewPoller()
	poller.Add(p.sock, zmq.POLLIN)
	deadline := time.Now().Add(wait)
	lastBeat := time.Now()
	for !done() {
		if time.Now().After(deadline) {
			p.t.Fatalf("not within %v: %s", wait, what)
		}
		if time.Since(lastBeat) >= p.heartbeat {
			p.send(p.server, protocol.NewHeartbeat(0))
			lastBeat = time.Now()
		}
		polled, err := poller.Poll(p.heartbeat)
		must(p.t, err)
		if len(polled) == 0 {
			continue
		}
		raw, err := p.sock.RecvMessageBytes(0)
		must(p.t, err)
		m, err := protocol.Parse(raw[1:])
		must(p.t, err)
		switch m.Type {
		case protocol.TypeServerReport:
			body, err := protocol.DecodeServerReportBody(m.Body)
			must(p.t, err)
			p.reports = append(p.reports, report{epoch: m.Epoch, body: body})
		case protocol.TypeHeartbeat, protocol.TypeStoreReply:
		case protocol.TypeHandoff:
			hb, err := protocol.DecodeHintBody(m.Body)
			must(p.t, err)
			if answer == nil {
				p.t.Fatalf("%s: unexpected Handoff of %s for %s", what, m.ListID, hb.Owner)
			}
			if r := answer(handoff{msg: m, owner: hb.Owner, list: hb.List}); r != nil {
				p.send(p.server, *r)
			}
		default:
			p.t.Fatalf("%s: unexpected %v from the server", what, m.Type)
		}
	}
}

// lastReport returns the latest report received, or a zero one.
func (p *fakeProxy) lastReport() report {
	if len(p.reports) == 0 {
		return report{}
	}
	return p.reports[len(p.reports)-1]
}

// storeAll stores each list on the server and waits for the StoreReplies.
func (p *fakeProxy) storeAll(lists []*crdt.List) {
	p.t.Helper()
	for _, l := range lists {
		if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
			p.t.Fatalf("store: %v (%v)", r.Type, r.Err())
		}
	}
}

// TestLeavingMembersAreNotPlaced: a leaving member, this server included,
// owns nothing on the adopted ring; the others keep their places.
func TestLeavingMembersAreNotPlaced(t *testing.T) {
	s := &Server{id: "s1", cfg: Config{Logger: testLogger(t)}}
	s.adoptRing(protocol.EpochBody{Epoch: 5, N: 3, VNodes: 3, Members: epochMembers([]string{"s2", "s3"}, []string{"s1", "s4"})})
	r := s.ring.Load()
	if got := r.ring.Servers(); !slices.Equal(got, []string{"s2", "s3"}) {
		t.Fatalf("placed %v, want [s2 s3]", got)
	}
	id := uuid.New()
	if s.ownsByRing(id) {
		t.Fatal("a leaving server owns a list")
	}
	s.adoptRing(protocol.EpochBody{Epoch: 6, N: 3, VNodes: 3, Members: epochMembers([]string{"s1", "s2"}, nil)})
	if !s.ownsByRing(id) {
		t.Fatal("with N=3 and two members, every member owns every list")
	}
}

// TestLeavingServerMovesEverythingAndEndsEmpty: once its epoch says it is
// leaving, a server hands every list to each of its owners, keeps each
// copy until every owner has acknowledged it (a down owner holds it back),
// then drops it, and its reports end at 0 lists and 0 hints.
func TestLeavingServerMovesEverythingAndEndsEmpty(t *testing.T) {
	s, p := startWelcomed(t, rebalanceConfig)
	var lists []*crdt.List
	byID := map[uuid.UUID]*crdt.List{}
	for range 12 {
		l := newList(t, time.Now, "milk", "eggs")
		lists = append(lists, l)
		byID[l.ID()] = l
	}
	p.storeAll(lists)
	p.serveUntil("a first report", nil, func() bool { return p.lastReport().body.Lists == 12 })

	p.announce(2, 2, []string{"s2", "s3"}, []string{"s1"})
	acked := map[string]map[uuid.UUID]bool{"s2": {}, "s3": {}}
	s3Up := false
	answer := func(h handoff) *protocol.Message {
		l := byID[h.msg.ListID]
		if l == nil || !bytes.Equal(h.list, l.Encode()) || acked[h.owner] == nil {
			t.Fatalf("Handoff of %s for %q: not a stored list's state, or not for an owner", h.msg.ListID, h.owner)
		}
		if h.owner == "s3" && !s3Up {
			// s3 is down until s2 has everything.
			r := protocol.NewError(h.msg.RequestID, protocol.CodeUnavailable, "owner s3 is down")
			return &r
		}
		acked[h.owner][l.ID()] = true
		r := protocol.NewStoreReply(h.msg.RequestID, l.ID())
		return &r
	}
	p.serveUntil("every list delivered to s2", answer, func() bool {
		st := s.Stats()
		return len(acked["s2"]) == len(lists) && st.Moving == len(lists)
	})
	if st := s.Stats(); st.Lists != len(lists) {
		t.Fatalf("%d lists left while s3 had none of them, want all %d kept", st.Lists, len(lists))
	}
	s3Up = true
	p.serveUntil("every list moved and dropped, and reported so", answer, func() bool {
		r := p.lastReport()
		return r.epoch == 2 && r.body == protocol.ServerReportBody{}
	})
	st := s.Stats()
	if len(acked["s3"]) != len(lists) || st.Lists != 0 || st.Hints != 0 ||
		st.MovesDelivered != uint64(2*len(lists)) || st.CopiesDropped != uint64(len(lists)) {
		t.Fatalf("after the move: %d delivered to s3, stats %+v", len(acked["s3"]), st)
	}
}

// TestRingChangeMovesListsToTheirNewOwners: a server that owned every list
// hands the ones a joining server now owns to it, keeps each until the
// owner's acknowledgement (an Unavailable answer keeps it), and drops it
// then; it keeps the lists it still owns. When a later epoch gives lists it
// still owns a new co-owner, it copies them there and keeps them; the ones
// it no longer owns go to all their owners.
func TestRingChangeMovesListsToTheirNewOwners(t *testing.T) {
	s, p := startWelcomed(t, rebalanceConfig)
	ring2 := hashring.New([]string{"s1", "s2"}, hashring.WithVNodes(3))
	var lists []*crdt.List
	moved, kept := map[uuid.UUID]bool{}, 0
	for len(moved) < 4 || kept < 6 {
		l := newList(t, time.Now, "milk")
		lists = append(lists, l)
		if ring2.Owners(l.ID().String(), 1)[0] == "s2" {
			moved[l.ID()] = true
		} else {
			kept++
		}
	}
	p.storeAll(lists)
	p.announce(2, 1, []string{"s1"}, nil)
	p.serveUntil("the first rebalance pass", nil, func() bool { return s.Stats().RebalancePasses == 1 })
	if st := s.Stats(); st.Hints != 0 {
		t.Fatalf("%d hints while this server is the only owner", st.Hints)
	}

	p.announce(3, 1, []string{"s1", "s2"}, nil)
	refused, acked := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	p.serveUntil("the lists s2 owns moved there and dropped", func(h handoff) *protocol.Message {
		id := h.msg.ListID
		if !moved[id] || h.owner != "s2" || acked[id] {
			t.Fatalf("Handoff of %s for %s: not a list s2 newly owns, or already acknowledged", id, h.owner)
		}
		if !refused[id] {
			refused[id] = true // first offer: s2 is down
			if has, err := s.Store().Has(id); err != nil || !has {
				t.Fatalf("list %s gone before its new owner had it (%v)", id, err)
			}
			r := protocol.NewError(h.msg.RequestID, protocol.CodeUnavailable, "owner s2 is down")
			return &r
		}
		acked[id] = true
		r := protocol.NewStoreReply(h.msg.RequestID, id)
		return &r
	}, func() bool {
		st := s.Stats()
		return len(acked) == len(moved) && st.Hints == 0 && st.Lists == kept
	})
	for _, l := range lists {
		if has, _ := s.Store().Has(l.ID()); has == moved[l.ID()] {
			t.Fatalf("list %s stored %v after the move; it moved: %v", l.ID(), has, moved[l.ID()])
		}
	}

	// Epoch 4: s3 joins and N becomes 2. Expected Handoffs, computed from
	// the rings: lists s1 still owns go to owners new since epoch 3; the
	// others to every owner.
	ring4 := hashring.New([]string{"s1", "s2", "s3"}, hashring.WithVNodes(3))
	want := map[uuid.UUID][]string{}
	owns := map[uuid.UUID]bool{}
	for _, l := range lists {
		if moved[l.ID()] {
			continue
		}
		owners := ring4.Owners(l.ID().String(), 2)
		owns[l.ID()] = slices.Contains(owners, "s1")
		for _, o := range owners {
			if o != "s1" && (!owns[l.ID()] || !slices.Contains(ring2.Owners(l.ID().String(), 1), o)) {
				want[l.ID()] = append(want[l.ID()], o)
			}
		}
	}
	p.announce(4, 2, []string{"s1", "s2", "s3"}, nil)
	got := map[uuid.UUID][]string{}
	p.serveUntil("the lists copied to their new owners", func(h handoff) *protocol.Message {
		id := h.msg.ListID
		got[id] = append(got[id], h.owner)
		r := protocol.NewStoreReply(h.msg.RequestID, id)
		if owns[id] {
			r = protocol.NewOK(h.msg.RequestID, id) // the proxy agrees s1 owns it
		}
		return &r
	}, func() bool { return s.Stats().RebalancePasses == 3 && s.Stats().Hints == 0 })
	for id, owners := range want {
		slices.Sort(owners)
		slices.Sort(got[id])
		if !slices.Equal(owners, got[id]) {
			t.Fatalf("list %s handed to %v, want %v", id, got[id], owners)
		}
		if has, _ := s.Store().Has(id); has != owns[id] {
			t.Fatalf("list %s stored %v after epoch 4; owned %v", id, has, owns[id])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("Handoffs for %d lists, want %d", len(got), len(want))
	}
}

// TestHintsAreRetargetedWhenTheirServerIsNoOwner: a hint for a server that
// is not a member is re-targeted to the list's current owners when the
// proxy answers NotFound; a NotFound the adopted ring disagrees with keeps
// the hint; and a rebalance pass re-targets hints whose server is leaving.
func TestHintsAreRetargetedWhenTheirServerIsNoOwner(t *testing.T) {
	s, p := startWelcomed(t, rebalanceConfig)
	p.announce(2, 2, []string{"s1", "s2"}, nil)
	p.serveUntil("the first rebalance pass", nil, func() bool { return s.Stats().RebalancePasses == 1 })

	l := newList(t, time.Now, "milk")
	m, err := protocol.NewHintedStore(p.id(), 0, l.ID(), "s9", l.Encode())
	must(t, err)
	p.send(p.server, m)
	var s2Refusals int
	p.serveUntil("the hint for s9 re-targeted to s2, and s2's NotFound kept", func(h handoff) *protocol.Message {
		var r protocol.Message
		switch h.owner {
		case "s9":
			r = protocol.NewError(h.msg.RequestID, protocol.CodeNotFound, "s9 is not a ring member")
		case "s2":
			s2Refusals++ // this server's ring says s2 owns the list: kept
			r = protocol.NewError(h.msg.RequestID, protocol.CodeNotFound, "a proxy ahead of the server")
		default:
			t.Fatalf("Handoff for %s", h.owner)
		}
		r.ListID = h.msg.ListID
		return &r
	}, func() bool { return s2Refusals >= 2 })
	hints, err := s.Store().Hints()
	must(t, err)
	if len(hints) != 1 || hints[0].Owner != "s2" || !hints[0].Move || s.Stats().Retargeted != 1 {
		t.Fatalf("hints %+v (retargeted %d), want one move hint for s2", hints, s.Stats().Retargeted)
	}

	p.announce(3, 2, []string{"s1", "s3"}, []string{"s2"})
	p.serveUntil("the hint for the leaving s2 re-targeted to s3 and delivered", func(h handoff) *protocol.Message {
		if h.owner != "s3" {
			r := protocol.NewError(h.msg.RequestID, protocol.CodeNotFound, "s2 is leaving")
			r.ListID = h.msg.ListID
			return &r
		}
		r := protocol.NewOK(h.msg.RequestID, h.msg.ListID)
		return &r
	}, func() bool { return s.Stats().Hints == 0 && s.Stats().RebalancePasses == 2 })
	if has, _ := s.Store().Has(l.ID()); !has {
		t.Fatal("an owner dropped its copy")
	}
}

// TestReportCounts: a report comes at once after the welcome and once per
// interval, at the adopted epoch, with the lists and hints stored.
func TestReportCounts(t *testing.T) {
	_, p := startWelcomed(t, func(c *Config) { rebalanceConfig(c); c.HandoffInterval = time.Hour })
	p.serveUntil("a report after the welcome", nil, func() bool { return len(p.reports) > 0 })
	if r := p.reports[0]; r.body != (protocol.ServerReportBody{}) || r.epoch != 0 {
		t.Fatalf("first report %+v, want zeros at epoch 0", r)
	}
	p.storeAll([]*crdt.List{newList(t, time.Now, "a"), newList(t, time.Now, "b")})
	l := newList(t, time.Now, "c")
	p.nextHandoff(p.hintedStore(l, "s7"), l, "s7") // offered at once; left unanswered
	p.serveUntil("a report of 3 lists and 1 hint", nil, func() bool {
		return p.lastReport().body == protocol.ServerReportBody{Lists: 3, Hints: 1}
	})
	// s7 is no member: its hint is re-targeted to the owners but s1, so
	// dropped; no list moves, as s1 owns them all.
	p.announce(2, 1, []string{"s1"}, nil)
	p.serveUntil("a report of 3 lists and no hint at epoch 2", nil, func() bool {
		r := p.lastReport()
		return r.epoch == 2 && r.body == protocol.ServerReportBody{Lists: 3}
	})
}
