package storage

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// mustHint stores l as a hinted write for owner.
func mustHint(t *testing.T, s *Store, l *crdt.List, owner string) {
	t.Helper()
	if _, err := s.SaveHinted(l, owner); err != nil {
		t.Fatalf("SaveHinted(%s, %s): %v", l.ID(), owner, err)
	}
}

// hintsOf returns the store's hints as "owner" strings of list id.
func hintsOf(t *testing.T, s *Store, id uuid.UUID) []Hint {
	t.Helper()
	all, err := s.Hints()
	if err != nil {
		t.Fatal(err)
	}
	var out []Hint
	for _, h := range all {
		if h.List == id {
			out = append(out, h)
		}
	}
	return out
}

// TestHintedWriteIsStoredWithItsHintAcrossAReopen: a hinted write is in
// the ordinary list store (so Load and LoadEncoded serve it) and its hint,
// naming the owner, survives closing and reopening the store.
func TestHintedWriteIsStoredWithItsHintAcrossAReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "kept for s2", "milk")
	mustHint(t, s, l, "s2")
	sameState(t, "after a hinted write", mustLoad(t, s, l.ID()), l)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, dir)
	sameState(t, "after reopening", mustLoad(t, s, l.ID()), l)
	hs := hintsOf(t, s, l.ID())
	if len(hs) != 1 || hs[0].Owner != "s2" || hs[0].Seq == 0 {
		t.Fatalf("hints after reopening: %+v, want one for s2", hs)
	}
	if s.HintCount() != 1 {
		t.Fatalf("HintCount = %d after reopening, want 1", s.HintCount())
	}
	// A new hinted write after the reopen gets a larger sequence number.
	mustHint(t, s, l, "s2")
	if again := hintsOf(t, s, l.ID()); len(again) != 1 || again[0].Seq <= hs[0].Seq {
		t.Fatalf("hint after another write: %+v, want one with a sequence above %d", again, hs[0].Seq)
	}
}

// TestHintStoreIsBounded: past MaxHints a new hint is refused with
// ErrHintsFull and nothing of it is written; a hint already kept still takes
// writes; a dropped hint frees its slot; the count survives a reopen.
func TestHintStoreIsBounded(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t)
	opts.MaxHints = 2
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	a, b, x := newList(t, c, "a", "1"), newList(t, c, "b", "2"), newList(t, c, "x", "3")
	mustHint(t, s, a, "s2")
	mustHint(t, s, b, "s2")
	if _, err := s.SaveHinted(x, "s2"); !errors.Is(err, ErrHintsFull) {
		t.Fatalf("third hint: %v, want ErrHintsFull", err)
	}
	if has, _ := s.Has(x.ID()); has {
		t.Fatal("a refused hinted write was stored")
	}
	mustHint(t, s, a, "s2") // the same hint again takes no new slot
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SaveHinted(x, "s3"); !errors.Is(err, ErrHintsFull) {
		t.Fatalf("after reopening: %v, want ErrHintsFull", err)
	}
	if _, _, err := s.DropHint(hintsOf(t, s, a.ID())[0], true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveHinted(x, "s3"); err != nil {
		t.Fatalf("after a drop freed a slot: %v", err)
	}
}
