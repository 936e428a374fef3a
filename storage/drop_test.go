package storage

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// TestDropHintDropsTheCopyOnlyWhenAskedAndNoOtherHintRemains.
func TestDropHintDropsTheCopyOnlyWhenAskedAndNoOtherHintRemains(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "two owners down", "milk")
	mustHint(t, s, l, "s2")
	mustHint(t, s, l, "s3")
	hs := hintsOf(t, s, l.ID())
	if len(hs) != 2 {
		t.Fatalf("hints %+v, want two", hs)
	}
	// Delivered to s2: the copy stays, s3 still needs it.
	hd, ld, err := s.DropHint(hs[0], true)
	if err != nil || !hd || ld {
		t.Fatalf("DropHint(s2) = %v, %v, %v; want the hint dropped and the list kept", hd, ld, err)
	}
	mustLoad(t, s, l.ID())
	// Delivered to s3, by a server that owns the list: the copy stays.
	if hd, ld, err := s.DropHint(hs[1], false); err != nil || !hd || ld {
		t.Fatalf("DropHint(s3, own) = %v, %v, %v; want the hint dropped and the list kept", hd, ld, err)
	}
	mustLoad(t, s, l.ID())
	if n := s.HintCount(); n != 0 {
		t.Fatalf("HintCount = %d, want 0", n)
	}

	// A list kept for one owner only, by a server that does not own it:
	// delivered, both go.
	m := newList(t, c, "one owner down", "eggs")
	mustHint(t, s, m, "s4")
	hd, ld, err = s.DropHint(hintsOf(t, s, m.ID())[0], true)
	if err != nil || !hd || !ld {
		t.Fatalf("DropHint(s4) = %v, %v, %v; want the hint and the list dropped", hd, ld, err)
	}
	if has, _ := s.Has(m.ID()); has {
		t.Fatal("the delivered, not owned list is still stored")
	}
	if _, err := s.LoadEncoded(m.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadEncoded of a dropped list: %v, want ErrNotFound", err)
	}
}

// TestDropHintKeepsAHintWrittenAfterTheDeliveredState: a hinted write that
// comes after the holder read the state it delivers must not be dropped
// with it, nor its data.
func TestDropHintKeepsAHintWrittenAfterTheDeliveredState(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "busy", "milk")
	mustHint(t, s, l, "s2")
	delivered := hintsOf(t, s, l.ID())[0]
	later := l.Clone()
	if err := later.Add(c, "late item", 1); err != nil {
		t.Fatal(err)
	}
	mustHint(t, s, later, "s2")
	hd, ld, err := s.DropHint(delivered, true)
	if err != nil || hd || ld {
		t.Fatalf("DropHint with a stale sequence = %v, %v, %v; want nothing dropped", hd, ld, err)
	}
	sameState(t, "after a stale drop", mustLoad(t, s, l.ID()), later)
	if hs := hintsOf(t, s, l.ID()); len(hs) != 1 {
		t.Fatalf("hints %+v, want the later one", hs)
	}
	// A drop of something already gone does nothing.
	if hd, ld, err := s.DropHint(Hint{List: uuid.New(), Owner: "s9", Seq: 1}, true); err != nil || hd || ld {
		t.Fatalf("DropHint of an unknown hint = %v, %v, %v", hd, ld, err)
	}
}

// TestDropHintKeepsACopyWrittenAfterTheDeliveredState: with Written set, a
// write (of any kind) after the delivered state was read keeps the hint and
// the copy, which would otherwise lose that write.
func TestDropHintKeepsACopyWrittenAfterTheDeliveredState(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk")
	mustHint(t, s, l, "s2")
	h := hintsOf(t, s, l.ID())[0]
	h.Written = s.Version(l.ID()) // the state delivered
	must(t, l.Add(c, "eggs", 1))
	mustSave(t, s, l) // an ordinary write after the delivery read the state
	if hd, ld, err := s.DropHint(h, true); err != nil || hd || ld {
		t.Fatalf("DropHint after a later write = %v, %v, %v; want nothing dropped", hd, ld, err)
	}
	h.Written = s.Version(l.ID()) // delivered again, with the write
	if hd, ld, err := s.DropHint(h, true); err != nil || !hd || !ld {
		t.Fatalf("DropHint of the current state = %v, %v, %v; want both dropped", hd, ld, err)
	}
}

// TestLoadHintedReadsTheVersionBeforeTheState: LoadHinted returns the
// stored state and, in Written, the version it was read at; a list that is
// not stored has Written 0 and ErrNotFound.
func TestLoadHintedReadsTheVersionBeforeTheState(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk")
	mustHint(t, s, l, "s2")
	h := hintsOf(t, s, l.ID())[0]
	got, enc, err := s.LoadHinted(h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Written == 0 || got.Written != s.Version(l.ID()) || got.Seq != h.Seq || got.Owner != "s2" {
		t.Fatalf("LoadHinted = %+v, want the hint with Written = %d", got, s.Version(l.ID()))
	}
	if want := mustLoad(t, s, l.ID()).Encode(); string(enc) != string(want) {
		t.Fatal("LoadHinted's encoding is not the stored state's")
	}
	if got, _, err := s.LoadHinted(Hint{List: uuid.New(), Owner: "s2"}); !errors.Is(err, ErrNotFound) || got.Written != 0 {
		t.Fatalf("LoadHinted of an absent list = %+v, %v; want Written 0 and ErrNotFound", got, err)
	}
}

// TestDropHintKeepsAMoveHintWrittenAfterTheDeliveredState: a move hint of a
// list whose copy stays (its holder owns the list) is kept, to be
// delivered again, when the list was written after the delivered state
// was read; a hint for a down owner goes with the older state, as the copy
// carries the write on.
func TestDropHintKeepsAMoveHintWrittenAfterTheDeliveredState(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk")
	mustSave(t, s, l)
	if _, _, err := s.Rehint([]HintChange{{List: l.ID(), Add: []string{"s3"}}}); err != nil {
		t.Fatal(err)
	}
	mustHint(t, s, l, "s2")
	var move, down Hint
	for _, h := range hintsOf(t, s, l.ID()) {
		h.Written = s.Version(l.ID()) // the state delivered
		if h.Move {
			move = h
		} else {
			down = h
		}
	}
	must(t, l.Add(c, "eggs", 1))
	mustSave(t, s, l) // written while it was delivered
	if hd, ld, err := s.DropHint(move, false); err != nil || hd || ld {
		t.Fatalf("DropHint of a move hint after a later write = %v, %v, %v; want it kept", hd, ld, err)
	}
	if hd, ld, err := s.DropHint(down, false); err != nil || !hd || ld {
		t.Fatalf("DropHint of a down owner's hint, the copy kept = %v, %v, %v; want the hint dropped", hd, ld, err)
	}
	move.Written = s.Version(l.ID()) // delivered again, with the write
	if hd, ld, err := s.DropHint(move, false); err != nil || !hd || ld {
		t.Fatalf("DropHint of the move hint with the current state = %v, %v, %v; want the hint dropped, the copy kept", hd, ld, err)
	}
}
