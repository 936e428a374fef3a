package storage

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// hintSummary renders the hints of list id as "owner:kind" strings.
func hintSummary(t *testing.T, s *Store, id uuid.UUID) []string {
	t.Helper()
	var out []string
	for _, h := range hintsOf(t, s, id) {
		kind := "down"
		if h.Move {
			kind = "move"
		}
		out = append(out, h.Owner+":"+kind)
	}
	return out
}

// TestRehintAddsMoveHintsBeyondTheCapAndKeepsKinds: move hints are added
// only for servers without a hint of the list, are not capped by MaxHints,
// keep their kind across a hinted write and a reopen, and are counted
// apart; Drop deletes hints of either kind.
func TestRehintAddsMoveHintsBeyondTheCapAndKeepsKinds(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t)
	opts.MaxHints = 1
	s, err := Open(dir, opts)
	must(t, err)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk")
	mustHint(t, s, l, "s2") // the one hint the cap allows
	added, dropped, err := s.Rehint([]HintChange{{List: l.ID(), Add: []string{"s2", "s3", "s4", "s3"}}})
	if err != nil || added != 2 || dropped != 0 {
		t.Fatalf("Rehint = %d added, %d dropped, %v; want 2 added", added, dropped, err)
	}
	if got, want := hintSummary(t, s, l.ID()), []string{"s2:down", "s3:move", "s4:move"}; !slices.Equal(got, want) {
		t.Fatalf("hints %v, want %v", got, want)
	}
	if s.HintCount() != 3 || s.MoveHintCount() != 2 {
		t.Fatalf("HintCount %d, MoveHintCount %d; want 3 and 2", s.HintCount(), s.MoveHintCount())
	}
	// A hinted write for s3 (the proxy's fallback choice) bumps the
	// sequence but leaves it a move hint, and needs no slot under the cap.
	mustHint(t, s, l, "s3")
	must(t, s.Close())

	s = openAt(t, dir)
	if got, want := hintSummary(t, s, l.ID()), []string{"s2:down", "s3:move", "s4:move"}; !slices.Equal(got, want) {
		t.Fatalf("hints after reopening %v, want %v", got, want)
	}
	if s.HintCount() != 3 || s.MoveHintCount() != 2 {
		t.Fatalf("after reopening: HintCount %d, MoveHintCount %d; want 3 and 2", s.HintCount(), s.MoveHintCount())
	}
	// s4 left the ring: its hint and s2's are replaced by one for s5.
	added, dropped, err = s.Rehint([]HintChange{{List: l.ID(), Add: []string{"s5"}, Drop: []string{"s2", "s4", "s9"}}})
	if err != nil || added != 1 || dropped != 2 {
		t.Fatalf("Rehint = %d added, %d dropped, %v; want 1 and 2", added, dropped, err)
	}
	if got, want := hintSummary(t, s, l.ID()), []string{"s3:move", "s5:move"}; !slices.Equal(got, want) {
		t.Fatalf("hints %v, want %v", got, want)
	}
	if s.HintCount() != 2 || s.MoveHintCount() != 2 {
		t.Fatalf("HintCount %d, MoveHintCount %d; want 2 and 2", s.HintCount(), s.MoveHintCount())
	}
	// Delivering both drops them, the last one with the copy.
	for i, h := range hintsOf(t, s, l.ID()) {
		hd, ld, err := s.DropHint(h, true)
		if err != nil || !hd || ld != (i == 1) {
			t.Fatalf("DropHint(%s) = %v, %v, %v", h.Owner, hd, ld, err)
		}
	}
	if s.HintCount() != 0 || s.MoveHintCount() != 0 || s.ListCount() != 0 {
		t.Fatalf("HintCount %d, MoveHintCount %d, ListCount %d; want 0", s.HintCount(), s.MoveHintCount(), s.ListCount())
	}
}

// TestRehintOfAListNoLongerStoredOnlyDrops: there is nothing to move for a
// list that is gone, so no hint is added; hints are still dropped.
func TestRehintOfAListNoLongerStoredOnlyDrops(t *testing.T) {
	s := openTemp(t)
	gone := uuid.New()
	added, dropped, err := s.Rehint([]HintChange{{List: gone, Add: []string{"s2"}, Drop: []string{"s3"}}})
	if err != nil || added != 0 || dropped != 0 || s.HintCount() != 0 {
		t.Fatalf("Rehint of an absent list = %d, %d, %v; %d hints", added, dropped, err, s.HintCount())
	}
	if _, _, err := s.Rehint([]HintChange{{List: gone, Add: []string{""}}}); err == nil {
		t.Fatal("a move hint naming no owner was accepted")
	}
}
