package syncer_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// storingProxy is a fake proxy that keeps what is pushed and answers
// Pulls as a proxy does: Unchanged when the Pull names, by its hash, the
// state it holds, else the state. It counts the Pulls by kind.
type storingProxy struct {
	mu                      sync.Mutex
	lists                   map[uuid.UUID]*crdt.List
	plain, known, unchanged int
	pushes                  int
}

func (s *storingProxy) handle(f *fakeProxy, m protocol.Message) [][][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Type {
	case protocol.TypeHello:
		return [][][]byte{f.welcome(m)}
	case protocol.TypePush:
		d, err := crdt.Decode(m.Body)
		if err != nil {
			return [][][]byte{protocol.NewError(m.RequestID, protocol.CodeInvalidList, err.Error()).Frames()}
		}
		if s.lists[m.ListID] == nil {
			s.lists[m.ListID] = crdt.Empty(m.ListID)
		}
		if err := s.lists[m.ListID].Merge(d); err != nil {
			return [][][]byte{protocol.NewError(m.RequestID, protocol.CodeInvalidList, err.Error()).Frames()}
		}
		s.pushes++
	case protocol.TypePull:
		var state []byte
		if l := s.lists[m.ListID]; l != nil {
			state = l.Encode()
		}
		if m.Body == nil {
			s.plain++
			return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, state).Frames()}
		}
		s.known++
		b, err := protocol.DecodePullBody(m.Body)
		if err != nil {
			return [][][]byte{protocol.NewErrorFrom(m.RequestID, err).Frames()}
		}
		if state != nil && crdt.StateHash(state) == b.Known {
			s.unchanged++
			return [][][]byte{protocol.NewUnchanged(m.RequestID, m.ListID).Frames()}
		}
		return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, state).Frames()}
	}
	return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
}

// counts returns the Pulls without a body, with one, and those answered
// Unchanged.
func (s *storingProxy) counts() (plain, known, unchanged int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plain, s.known, s.unchanged
}

// TestARepullOfAnUnchangedListIsAnsweredUnchanged: a list with unpushed
// edits is pulled without naming a state; once synced, a re-pull names
// the replica's state, is answered Unchanged and leaves the replica as it
// was, the list synced; a list the cluster changed meanwhile is still
// pulled whole and merged.
func TestARepullOfAnUnchangedListIsAnsweredUnchanged(t *testing.T) {
	s := &storingProxy{lists: map[uuid.UUID]*crdt.List{}}
	f := startFake(t, s.handle)
	a := newClient(t, "a", f.endpoint)
	id := a.create("groceries")
	a.edit(id, add("milk", 2))
	a.waitSynced(id)
	plain, _, unchanged := s.counts()
	if plain == 0 {
		t.Fatal("the list was never pulled without a state named while it had unpushed edits")
	}

	before := a.get(id)
	if before.Pending {
		t.Fatal("the list is pending after WaitSynced")
	}
	a.waitSynced(id) // pulls it again
	_, known, unchanged2 := s.counts()
	if known == 0 || unchanged2 != unchanged+1 {
		t.Fatalf("the re-pull of a synced list: %d pulls named a state, %d then %d answered Unchanged; want one more Unchanged", known, unchanged, unchanged2)
	}
	after := a.get(id)
	if !bytes.Equal(after.List.Encode(), before.List.Encode()) || after.Pending || after.LastSync.Before(before.LastSync) {
		t.Fatalf("after Unchanged the replica is %v pending %v synced %v; before it was %v pending %v synced %v",
			after.List, after.Pending, after.LastSync, before.List, before.Pending, before.LastSync)
	}
	if st := a.eng.Status(); st.LastErr != "" {
		t.Fatalf("status after Unchanged: %+v", st)
	}

	// Another client's edit reaches the cluster: the next pull names the
	// old state, gets the new one and merges it.
	other := crdt.NewClock(uuid.New())
	s.mu.Lock()
	if err := s.lists[id].Add(other, "bread", 1); err != nil {
		s.mu.Unlock()
		t.Fatal(err)
	}
	s.mu.Unlock()
	a.waitSynced(id)
	if got := a.wanted(id, "bread"); got != 1 {
		t.Fatalf("after the cluster changed, the re-pull left bread at %d, want 1", got)
	}
	if _, _, unchanged3 := s.counts(); unchanged3 != unchanged2 {
		t.Fatalf("a pull of a list the cluster changed was answered Unchanged (%d, was %d)", unchanged3, unchanged2)
	}
}
