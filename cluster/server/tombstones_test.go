package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"shoplist/crdt"
	"shoplist/protocol"
)

// tombstoneState hand-encodes a state of list id holding n removed items:
// what a hostile holder of the ID could push to fill the list. (The crdt
// package never makes one past crdt.MaxTombstones.)
func tombstoneState(t *testing.T, id uuid.UUID, n int) []byte {
	t.Helper()
	replica := uuid.New()
	stamp := func(wall int64) []byte {
		b := make([]byte, 28)
		for i := range 8 {
			b[i] = byte(wall >> (56 - 8*i))
		}
		copy(b[12:], replica[:])
		return b
	}
	now := time.Now().UnixMilli()
	items := make([]any, n)
	for i := range n {
		k := fmt.Sprintf("gone %05d", i)
		add, rm := stamp(now-int64(2*n)+int64(2*i)), stamp(now-int64(2*n)+int64(2*i)+1)
		items[i] = []any{k, k, add, "", nil, "", nil, rm, nil,
			[]any{[]any{add, nil, 1, 0, 0, 0}}, []any{[]any{add, nil, rm, 1, 0, 0, 0}}, nil}
	}
	body, err := msgpack.Marshal([]any{crdt.FormatVersion, id[:], "", make([]byte, 28), nil, items})
	must(t, err)
	return body
}

// TestAPushOfFiveThousandTombstonesIsRefused: the push that would brick a
// shared list is refused whole as too large, nothing of it is stored, and
// the list keeps taking edits.
func TestAPushOfFiveThousandTombstonesIsRefused(t *testing.T) {
	s, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk")
	p.call(p.storeMsg(l))
	reply := p.call(protocol.NewStore(p.id(), 0, l.ID(), tombstoneState(t, l.ID(), 5000)))
	if b, ok := reply.Err().(protocol.ErrorBody); reply.Type != protocol.TypeError || !ok || b.Code != protocol.CodeTooLarge {
		t.Fatalf("push of 5000 tombstones: %v %v, want a TooLarge error", reply.Type, reply.Err())
	}
	got, err := s.store.Load(l.ID())
	must(t, err)
	if got.Len() != 1 {
		t.Fatalf("the store holds %d items after the refused push, want 1", got.Len())
	}
	// A state at the bound is a state the rules can make: it is taken.
	if reply := p.call(protocol.NewStore(p.id(), 0, l.ID(), tombstoneState(t, l.ID(), crdt.MaxTombstones))); reply.Type != protocol.TypeStoreReply {
		t.Fatalf("push of %d tombstones: %v %v, want it stored", crdt.MaxTombstones, reply.Type, reply.Err())
	}
	must(t, l.Add(crdt.NewClock(uuid.New()), "tea", 1))
	if reply := p.call(p.storeMsg(l)); reply.Type != protocol.TypeStoreReply {
		t.Fatalf("an add after the refused push: %v %v", reply.Type, reply.Err())
	}
}
