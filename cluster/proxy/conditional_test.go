package proxy

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// pullAnswered sends a client's Pull and answers every owner's Fetch with
// body (nil: the owner does not hold the list); it returns the client's
// answer. Each Fetch must name what the Pull names.
func pullAnswered(t *testing.T, p *Proxy, fakes map[string]*fakeServer, c *endpoint, pull protocol.Message, body []byte) protocol.Message {
	t.Helper()
	c.send(pull)
	for _, s := range owners(t, p, fakes, pull.ListID) {
		m := s.recvType(protocol.TypeFetch)
		if !bytes.Equal(m.Body, pull.Body) {
			t.Fatalf("%s got a Fetch with body %x for a Pull with body %x", s.id, m.Body, pull.Body)
		}
		s.send(protocol.NewFetchReply(m.RequestID, pull.ListID, body))
	}
	for {
		m := c.recv()
		if m.Type != protocol.TypeHeartbeat {
			return m
		}
	}
}

// A Pull naming, by its hash, the state the replicas hold is answered
// Unchanged, with no body; one naming another state, or none, gets the
// state.
func TestPullOfTheKnownStateIsUnchanged(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	l, body := sampleList(t, "milk", "eggs")
	known := crdt.StateHash(body)

	got := pullAnswered(t, p, fakes, c, protocol.NewPullKnown(21, l.ID(), known), body)
	if got.Type != protocol.TypeUnchanged || got.RequestID != 21 || got.ListID != l.ID() || got.Body != nil {
		t.Fatalf("pull with the replicas' hash answered %v (request %d, list %s, %d bytes), want Unchanged for 21", got.Type, got.RequestID, got.ListID, len(got.Body))
	}

	stale := known ^ 1
	got = pullAnswered(t, p, fakes, c, protocol.NewPullKnown(22, l.ID(), stale), body)
	if got.Type != protocol.TypePullReply || got.RequestID != 22 || !bytes.Equal(got.Body, body) {
		t.Fatalf("pull with a stale hash answered %v with %d bytes, want the PullReply with the state", got.Type, len(got.Body))
	}

	got = pullAnswered(t, p, fakes, c, protocol.NewPull(23, l.ID()), body)
	if got.Type != protocol.TypePullReply || got.RequestID != 23 || !bytes.Equal(got.Body, body) {
		t.Fatalf("pull without a body answered %v with %d bytes, want the PullReply with the state", got.Type, len(got.Body))
	}

	st := statusOf(t, p)
	if st.Counters.Unchanged != 1 || st.Counters.Pulls != 3 {
		t.Fatalf("counters: %d pulls, %d unchanged; want 3 and 1", st.Counters.Pulls, st.Counters.Unchanged)
	}
}

// A list no replica holds is an empty PullReply whatever the Pull's Known,
// the hash of the empty encoding included: not found is never unchanged.
func TestPullOfAnUnknownListWithKnownIsAnEmptyReply(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	_, body := sampleList(t, "bread")
	for i, known := range []uint64{crdt.StateHash(nil), crdt.StateHash(body), 0} {
		id := uuid.New()
		req := uint64(30 + i)
		got := pullAnswered(t, p, fakes, c, protocol.NewPullKnown(req, id, known), nil)
		if got.Type != protocol.TypePullReply || got.RequestID != req || got.ListID != id || got.Body != nil {
			t.Fatalf("pull of an unknown list with known %#x answered %v (request %d, %d bytes), want an empty PullReply", known, got.Type, got.RequestID, len(got.Body))
		}
	}
}

// A Pull whose body is not a PullBody is refused before any server hears
// of it.
func TestPullWithAMalformedBodyIsRefused(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	id := uuid.New()
	for i, body := range [][]byte{[]byte("surprise"), {0x90}, {0x92, 0x01, 0x01}, {0x91, 0xa1, 0x31}, {0x91, 0x01, 0x00}} {
		req := uint64(40 + i)
		c.send(protocol.Message{Header: protocol.Header{Version: protocol.Version, Type: protocol.TypePull, RequestID: req, ListID: id}, Body: body})
		m := c.recvType(protocol.TypeError)
		if m.RequestID != req || protocol.CodeOf(m.Err()) != protocol.CodeBadRequest {
			t.Fatalf("pull with body %x answered %v for request %d, want BadRequest for %d", body, m.Err(), m.RequestID, req)
		}
	}
	for _, s := range owners(t, p, fakes, id) {
		s.silent(50 * time.Millisecond) // no Fetch
	}
}

// Owners that answer a Fetch naming the client's state Unchanged make the
// pull Unchanged, and leave nothing to repair.
func TestReplicasAnsweringUnchangedMakeThePullUnchanged(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	l, body := sampleList(t, "milk", "eggs")
	known := crdt.StateHash(body)
	c.send(protocol.NewPullKnown(51, l.ID(), known))
	own := owners(t, p, fakes, l.ID())
	for _, s := range own {
		m := s.recvType(protocol.TypeFetch)
		if b, err := protocol.DecodePullBody(m.Body); err != nil || b.Known != known {
			t.Fatalf("%s got a Fetch naming %+v (%v), want the client's hash %#x", s.id, b, err, known)
		}
		s.send(protocol.NewUnchanged(m.RequestID, l.ID()))
	}
	if got := c.recvType(protocol.TypeUnchanged); got.RequestID != 51 || got.Body != nil {
		t.Fatalf("answer to request %d with %d bytes, want Unchanged for 51", got.RequestID, len(got.Body))
	}
	for _, s := range own {
		s.silent(50 * time.Millisecond) // no repair, no second read
	}
	if st := statusOf(t, p); st.Counters.Unchanged != 1 || st.Counters.Rereads != 0 || st.Counters.Repairs != 0 {
		t.Fatalf("counters: %d unchanged, %d rereads, %d repairs; want 1, 0, 0", st.Counters.Unchanged, st.Counters.Rereads, st.Counters.Repairs)
	}
}

// An owner left behind, answering with its older state where the others
// answered Unchanged, does not hold up the client; the list is then read
// again without a named state, and the owner behind is repaired with what
// the others hold, which the proxy had not seen.
func TestAReplicaBehindUnchangedOnesIsReadAgainAndRepaired(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	old, oldBody := sampleList(t, "milk")
	cur := old.Clone()
	if err := cur.Add(crdt.NewClock(uuid.New()), "eggs", 1); err != nil {
		t.Fatal(err)
	}
	body := cur.Encode()
	c.send(protocol.NewPullKnown(61, old.ID(), crdt.StateHash(body)))
	own := owners(t, p, fakes, old.ID())
	fetches := make([]protocol.Message, len(own))
	for i, s := range own {
		fetches[i] = s.recvType(protocol.TypeFetch)
	}
	for _, i := range []int{0, 1} {
		own[i].send(protocol.NewUnchanged(fetches[i].RequestID, old.ID()))
	}
	if got := c.recvType(protocol.TypeUnchanged); got.RequestID != 61 {
		t.Fatalf("answer to request %d, want Unchanged for 61", got.RequestID)
	}
	own[2].send(protocol.NewFetchReply(fetches[2].RequestID, old.ID(), oldBody))

	states := [][]byte{body, body, oldBody}
	for i, s := range own {
		m := s.recvType(protocol.TypeFetch)
		if m.Body != nil {
			t.Fatalf("%s: the second read names a state (%x)", s.id, m.Body)
		}
		s.send(protocol.NewFetchReply(m.RequestID, old.ID(), states[i]))
	}
	m := own[2].recvType(protocol.TypeStore)
	if !bytes.Equal(m.Body, body) {
		t.Fatalf("%s repaired with %d bytes, want the others' state", own[2].id, len(m.Body))
	}
	own[2].send(protocol.NewStoreReply(m.RequestID, old.ID()))
	for _, s := range own[:2] {
		s.silent(50 * time.Millisecond)
	}
	if st := statusOf(t, p); st.Counters.Rereads != 1 || st.Counters.Repairs != 1 {
		t.Fatalf("counters: %d rereads, %d repairs; want 1 and 1", st.Counters.Rereads, st.Counters.Repairs)
	}
}

// When some owners answer Unchanged and another sends a state the client
// lacks, the client is not sent that state alone: a PullReply is a read of
// the cluster, which the client trusts to drop what the cluster forgot.
// The owners are asked again for their states, the client gets the merge
// of all of them, and the owners are repaired from it.
func TestAStateBesideUnchangedAnswersIsReadAgainWhole(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.R = 3 })
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	held, heldBody := sampleList(t, "milk")
	other := crdt.Empty(held.ID()) // a state without the client's milk
	if err := other.Add(crdt.NewClock(uuid.New()), "eggs", 1); err != nil {
		t.Fatal(err)
	}
	whole, err := crdt.Join(held, other)
	if err != nil {
		t.Fatal(err)
	}
	c.send(protocol.NewPullKnown(71, held.ID(), crdt.StateHash(heldBody)))
	own := owners(t, p, fakes, held.ID())
	for i, s := range own {
		m := s.recvType(protocol.TypeFetch)
		if i < 2 {
			s.send(protocol.NewUnchanged(m.RequestID, held.ID()))
		} else {
			s.send(protocol.NewFetchReply(m.RequestID, held.ID(), other.Encode()))
		}
	}
	states := [][]byte{heldBody, heldBody, other.Encode()}
	for i, s := range own {
		m := s.recvType(protocol.TypeFetch)
		if m.Body != nil {
			t.Fatalf("%s: the second read names a state (%x)", s.id, m.Body)
		}
		s.send(protocol.NewFetchReply(m.RequestID, held.ID(), states[i]))
	}
	got := c.recvType(protocol.TypePullReply)
	if got.RequestID != 71 || !bytes.Equal(got.Body, whole.Encode()) {
		t.Fatalf("answer to request %d with %d bytes, want the merge of every owner's state for 71", got.RequestID, len(got.Body))
	}
	for _, s := range own {
		m := s.recvType(protocol.TypeStore)
		if !bytes.Equal(m.Body, whole.Encode()) {
			t.Fatalf("%s repaired with %d bytes, want the merge", s.id, len(m.Body))
		}
		s.send(protocol.NewStoreReply(m.RequestID, held.ID()))
	}
	if st := statusOf(t, p); st.Counters.PulledPlain != 1 || st.Counters.Rereads != 0 || st.Counters.Pulls != 1 {
		t.Fatalf("counters: %d pulled plain, %d rereads, %d pulls; want 1, 0, 1", st.Counters.PulledPlain, st.Counters.Rereads, st.Counters.Pulls)
	}
}
