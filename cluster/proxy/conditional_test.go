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
// answer.
func pullAnswered(t *testing.T, p *Proxy, fakes map[string]*fakeServer, c *endpoint, pull protocol.Message, body []byte) protocol.Message {
	t.Helper()
	c.send(pull)
	for _, s := range owners(t, p, fakes, pull.ListID) {
		m := s.recvType(protocol.TypeFetch)
		if m.Body != nil {
			t.Fatalf("%s got a Fetch with a %d-byte body", s.id, len(m.Body))
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
