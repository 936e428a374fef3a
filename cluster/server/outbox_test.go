package server

import (
	"testing"
	"time"

	"shoplist/protocol"
)

// TestABatchOfRequestsIsServedAndAnsweredInOneBatch: with Batch on, the
// Stores and the Fetch of one Batch are served together and answered in
// one Batch, each answer its own; the stores are durable by then.
func TestABatchOfRequestsIsServedAndAnsweredInOneBatch(t *testing.T) {
	s, p := startWelcomed(t, func(c *Config) { c.Batch = true })
	var reqs protocol.Batcher
	want := map[uint64]protocol.Type{}
	for _, item := range []string{"milk", "eggs", "bread"} {
		m := p.storeMsg(newList(t, time.Now, item))
		reqs.Add(m)
		want[m.RequestID] = protocol.TypeStoreReply
	}
	missing := newList(t, time.Now, "jam")
	f := protocol.NewFetch(p.id(), 0, missing.ID())
	reqs.Add(f)
	want[f.RequestID] = protocol.TypeFetchReply
	batch, _ := reqs.Take(0)
	p.send(p.server, batch)

	_, m, _ := p.recv()
	if m.Type != protocol.TypeBatch {
		t.Fatalf("got %v, want the answers in one Batch", m.Type)
	}
	answers, err := protocol.Unbatch(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		if a.Type != want[a.RequestID] {
			t.Fatalf("answer %v to request %d, want %v", a.Type, a.RequestID, want[a.RequestID])
		}
		delete(want, a.RequestID)
	}
	if len(want) != 0 {
		t.Fatalf("requests %v not answered", want)
	}
	if n := s.Store().ListCount(); n != 3 {
		t.Fatalf("the store holds %d lists after three acknowledged stores", n)
	}
}

// TestAMalformedBatchIsRefusedWhole: a Batch holding a Batch stores
// nothing of what it carries, and the server goes on serving.
func TestAMalformedBatchIsRefusedWhole(t *testing.T) {
	s, p := startWelcomed(t, func(c *Config) { c.Batch = true })
	var inner, outer protocol.Batcher
	inner.Add(p.storeMsg(newList(t, time.Now, "milk")))
	inner.Add(p.storeMsg(newList(t, time.Now, "eggs")))
	nested, _ := inner.Take(0)
	outer.Add(p.storeMsg(newList(t, time.Now, "bread")))
	outer.Add(nested)
	bad, _ := outer.Take(0)
	p.send(p.server, bad)
	p.mustStore("after a malformed Batch") // answered: the server goes on
	if n := s.Store().ListCount(); n != 1 {
		t.Fatalf("the store holds %d lists; only the one stored after the malformed Batch belongs there", n)
	}
}
