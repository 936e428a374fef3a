package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// fastHandoff makes a server offer its hints every 50ms.
func fastHandoff(c *Config) { c.HandoffInterval = 50 * time.Millisecond }

// hintedStore sends a HintedStore of l for owner and waits for its
// StoreReply; Handoffs the server sends meanwhile are returned too.
func (p *fakeProxy) hintedStore(l *crdt.List, owner string) []protocol.Message {
	p.t.Helper()
	m, err := protocol.NewHintedStore(p.id(), 0, l.ID(), owner, l.Encode())
	must(p.t, err)
	p.send(p.server, m)
	var handoffs []protocol.Message
	for {
		_, r, _ := p.recv()
		switch {
		case r.Type == protocol.TypeHandoff:
			handoffs = append(handoffs, r)
		case r.RequestID == m.RequestID && r.Type == protocol.TypeStoreReply && r.ListID == l.ID():
			return handoffs
		default:
			p.t.Fatalf("hinted store answered with %v (%v), want StoreReply", r.Type, r.Err())
		}
	}
}

// nextHandoff returns the first of handoffs, or waits for one; it checks
// that it carries want for owner.
func (p *fakeProxy) nextHandoff(handoffs []protocol.Message, want *crdt.List, owner string) protocol.Message {
	p.t.Helper()
	var m protocol.Message
	if len(handoffs) > 0 {
		m = handoffs[0]
	} else {
		_, m, _ = p.recv()
	}
	if m.Type != protocol.TypeHandoff || m.ListID != want.ID() {
		p.t.Fatalf("got %v for list %s, want a Handoff of %s", m.Type, m.ListID, want.ID())
	}
	hb, err := protocol.DecodeHintBody(m.Body)
	must(p.t, err)
	if hb.Owner != owner || !bytes.Equal(hb.List, want.Encode()) {
		p.t.Fatalf("Handoff for %q with items %q, want for %q with %q", hb.Owner, itemsOf(p.t, hb.List), owner, want.ItemKeys())
	}
	return m
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising on time
	}
}

// TestHintedStoreSurvivesARestartAndIsHandedOffOnReconnect: a hinted write
// is acknowledged once durable; after a restart the server still holds the
// list and its hint, and offers it to the proxy as soon as it is welcomed.
func TestHintedStoreSurvivesARestartAndIsHandedOffOnReconnect(t *testing.T) {
	p := newFakeProxy(t)
	dir := t.TempDir()
	s := startServer(t, p, func(c *Config) { c.Dir = dir; c.HandoffInterval = time.Hour })
	p.welcome(1)
	l := newList(t, time.Now, "milk", "eggs")
	// A new hint is offered at once; leave that offer unanswered.
	p.nextHandoff(p.hintedStore(l, "s2"), l, "s2")
	must(t, s.Close())

	s2 := startServer(t, p, func(c *Config) { c.Dir = dir; c.HandoffInterval = time.Hour })
	if n := s2.Store().HintCount(); n != 1 {
		t.Fatalf("%d hints after a restart, want 1", n)
	}
	p.welcome(1)
	// The hour-long interval leaves only the welcome to trigger this.
	h := p.nextHandoff(nil, l, "s2")
	if h.RequestID == 0 {
		t.Fatal("Handoff without a request ID")
	}
}

// TestHandoffDropsHintAndCopyOnlyOnceTheOwnerHasIt: while the proxy
// answers Unavailable (the owner is down) the server keeps offering the
// list and keeps it; once the proxy answers StoreReply (the owner stored it
// durably, and this server does not own the list) the hint and the copy go.
func TestHandoffDropsHintAndCopyOnlyOnceTheOwnerHasIt(t *testing.T) {
	s, p := startWelcomed(t, fastHandoff)
	l := newList(t, time.Now, "milk")
	h := p.nextHandoff(p.hintedStore(l, "s2"), l, "s2")
	p.send(p.server, protocol.NewError(h.RequestID, protocol.CodeUnavailable, "owner s2 is down"))
	h = p.nextHandoff(nil, l, "s2") // offered again in a later round
	if has, _ := s.Store().Has(l.ID()); !has || s.Store().HintCount() != 1 {
		t.Fatal("the hint or the copy went while the owner was down")
	}
	p.send(p.server, protocol.NewStoreReply(h.RequestID, l.ID()))
	eventually(t, "hint and copy dropped", func() bool {
		has, err := s.Store().Has(l.ID())
		return err == nil && !has && s.Store().HintCount() == 0
	})
}

// TestHandoffNeverDropsAnOwnedList: a list the proxy says this server owns
// (OK), or that the latest announced ring makes it an owner of, keeps its
// copy after delivery; only the hint goes.
func TestHandoffNeverDropsAnOwnedList(t *testing.T) {
	s, p := startWelcomed(t, fastHandoff)
	l := newList(t, time.Now, "milk")
	h := p.nextHandoff(p.hintedStore(l, "s2"), l, "s2")
	ok := protocol.NewOK(h.RequestID, l.ID())
	p.send(p.server, ok)
	eventually(t, "hint dropped", func() bool { return s.Store().HintCount() == 0 })
	if has, _ := s.Store().Has(l.ID()); !has {
		t.Fatal("a list the proxy said this server owns was dropped")
	}

	// The ring says so (two members, N=3: each owns every list), even
	// though the proxy's StoreReply says otherwise: the copy stays.
	ann, err := protocol.NewEpochAnnounce(p.id(), protocol.EpochBody{Epoch: 2, N: 3, VNodes: 3,
		Members: sortedMembers(s.ID(), "s2")})
	must(t, err)
	if r := p.call(ann); r.Type != protocol.TypeOK {
		t.Fatalf("epoch announce: %v", r.Type)
	}
	m := newList(t, time.Now, "eggs")
	h = p.nextHandoff(p.hintedStore(m, "s2"), m, "s2")
	p.send(p.server, protocol.NewStoreReply(h.RequestID, m.ID()))
	eventually(t, "hint dropped", func() bool { return s.Store().HintCount() == 0 })
	if has, _ := s.Store().Has(m.ID()); !has {
		t.Fatal("a list the announced ring makes this server own was dropped")
	}
}

// TestHandoffAnswersThatDoNotMatchAreIgnored: a StoreReply for another
// list, or for a request never sent, drops nothing.
func TestHandoffAnswersThatDoNotMatchAreIgnored(t *testing.T) {
	s, p := startWelcomed(t, func(c *Config) { c.HandoffInterval = time.Hour })
	l := newList(t, time.Now, "milk")
	h := p.nextHandoff(p.hintedStore(l, "s2"), l, "s2")
	p.send(p.server, protocol.NewStoreReply(h.RequestID+1, l.ID()))
	p.send(p.server, protocol.NewStoreReply(h.RequestID, uuid.New()))
	// The server still serves, and still has the hint and the list.
	if r := p.call(protocol.NewFetch(p.id(), 0, l.ID())); !bytes.Equal(r.Body, l.Encode()) {
		t.Fatalf("fetch after stray answers: %v", r.Type)
	}
	if s.Store().HintCount() != 1 {
		t.Fatal("a mismatched answer dropped the hint")
	}
}

// sortedMembers returns Up members with the given IDs, sorted.
func sortedMembers(ids ...string) []protocol.Member {
	var out []protocol.Member
	for _, id := range ids {
		out = append(out, protocol.Member{ID: id, State: protocol.MemberUp})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
