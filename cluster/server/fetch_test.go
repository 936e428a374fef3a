package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// TestAFetchNamingTheReplicasStateIsUnchanged: a Fetch naming the hash of
// the replica's state is answered Unchanged, both when the state is read
// from the store (the first read) and when it comes from the cache of
// encodings (the reads after it); one naming another state, or a list the
// server does not hold, gets the state or the empty answer; after a write,
// the old hash gets the new state and the new hash Unchanged.
func TestAFetchNamingTheReplicasStateIsUnchanged(t *testing.T) {
	_, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk", "eggs")
	p.call(p.storeMsg(l))
	known := crdt.StateHash(l.Encode())
	wantUnchanged := func(what string, known uint64) {
		t.Helper()
		r := p.call(protocol.NewFetchKnown(p.id(), 0, l.ID(), known))
		if r.Type != protocol.TypeUnchanged || r.ListID != l.ID() || len(r.Body) != 0 {
			t.Fatalf("%s: %v for %s with %d bytes, want Unchanged", what, r.Type, r.ListID, len(r.Body))
		}
	}
	wantState := func(what string, known uint64, want []byte) {
		t.Helper()
		r := p.call(protocol.NewFetchKnown(p.id(), 0, l.ID(), known))
		if r.Type != protocol.TypeFetchReply || !bytes.Equal(r.Body, want) {
			t.Fatalf("%s: %v with %d bytes, want the FetchReply of the %d-byte state", what, r.Type, len(r.Body), len(want))
		}
	}
	wantUnchanged("first read, from the store", known)
	wantUnchanged("second read, from the cache", known)
	wantState("another state named", known^1, l.Encode())

	more := crdt.Empty(l.ID())
	must(t, more.Add(crdt.NewClock(uuid.New()), "bread", 1))
	p.call(p.storeMsg(more))
	must(t, l.Merge(more))
	wantState("the state before a write named", known, l.Encode())
	wantUnchanged("the state after the write named", crdt.StateHash(l.Encode()))

	unknown := uuid.New()
	r := p.call(protocol.NewFetchKnown(p.id(), 0, unknown, crdt.StateHash(nil)))
	if r.Type != protocol.TypeFetchReply || len(r.Body) != 0 {
		t.Fatalf("fetch of an unknown list naming the empty hash: %v with %d bytes, want an empty FetchReply", r.Type, len(r.Body))
	}
}

// TestAFetchWithAMalformedBodyIsRefused: a Fetch body that is not a
// PullBody is refused with BadRequest, and nothing is read.
func TestAFetchWithAMalformedBodyIsRefused(t *testing.T) {
	_, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk")
	p.call(p.storeMsg(l))
	for _, body := range [][]byte{[]byte("surprise"), {0x90}, {0x92, 0x01, 0x01}} {
		m := protocol.NewFetch(p.id(), 0, l.ID())
		m.Body = body
		wantError(t, p.call(m), protocol.CodeBadRequest)
	}
}
