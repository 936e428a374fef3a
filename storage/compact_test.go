package storage

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// settableNow is a clock a test moves.
type settableNow struct {
	mu sync.Mutex
	t  time.Time
}

func (n *settableNow) now() time.Time { n.mu.Lock(); defer n.mu.Unlock(); return n.t }
func (n *settableNow) add(d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.t = n.t.Add(d)
}

// openWithHorizon opens a store that compacts at horizon, on a clock the
// test moves, starting at the lists' own time.
func openWithHorizon(t *testing.T, horizon time.Duration) (*Store, *settableNow) {
	t.Helper()
	now := &settableNow{t: time.Now()}
	opts := testOptions(t)
	opts.TombstoneHorizon, opts.Now = horizon, now.now
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, now
}

// partCount returns how many parts of list id are stored.
func partCount(t *testing.T, s *Store, id uuid.UUID) int {
	t.Helper()
	n := 0
	if err := s.scanList(keyOf(id), func(_, _ []byte) { n++ }); err != nil {
		t.Fatal(err)
	}
	return n
}

// sameAsEncoded checks that LoadEncoded assembles the state Load reads.
func sameAsEncoded(t *testing.T, s *Store, l *crdt.List) {
	t.Helper()
	enc, err := s.LoadEncoded(l.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, l.Encode()) {
		t.Fatalf("LoadEncoded differs from Load:\n%x\n%x", enc, l.Encode())
	}
}

// TestARemoveAfterTheHorizonForgetsOldRemoves: a store with a horizon
// keeps a remove's tombstone through later adds, and forgets it at the
// list's first remove a horizon later; what a person sees is unchanged.
func TestARemoveAfterTheHorizonForgetsOldRemoves(t *testing.T) {
	s, now := openWithHorizon(t, 90*24*time.Hour)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "groceries", "milk", "eggs")
	mustSave(t, s, l)
	before := l.MaxStamp()
	if err := l.Remove(c, "eggs"); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, l.Delta(before))
	if got := partCount(t, s, l.ID()); got != 3 {
		t.Fatalf("%d parts before the horizon, want 3 (name, milk, the eggs tombstone)", got)
	}
	now.add(90*24*time.Hour + 90*24*time.Hour/horizonSteps + 24*time.Hour) // the horizon and a step
	other := crdt.NewClockWith(uuid.New(), now.now)
	edit := crdt.Empty(l.ID())
	for _, name := range []string{"tea", "jam"} {
		if err := edit.Add(other, name, 1); err != nil {
			t.Fatal(err)
		}
	}
	mustSave(t, s, edit)
	if got := mustLoad(t, s, l.ID()); got.Tombstones() != 1 || !got.Floor().IsZero() {
		t.Fatalf("after adds only: %d tombstones, floor %v; want eggs kept and no floor", got.Tombstones(), got.Floor())
	}
	point := edit.MaxStamp()
	if err := edit.Remove(other, "jam"); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, edit.Delta(point))
	got := mustLoad(t, s, l.ID())
	if got.Tombstones() != 1 || partCount(t, s, l.ID()) != 4 {
		t.Fatalf("after the horizon: %d tombstones, %d parts; want 1 (jam) and 4 (name, milk, tea, jam)", got.Tombstones(), partCount(t, s, l.ID()))
	}
	if _, kept := got.Lookup("eggs"); kept || slices.Contains(got.ItemKeys(), "eggs") {
		t.Fatal("eggs' tombstone is still kept")
	}
	if want := s.horizonFloor(); got.Floor() != want || want.IsZero() {
		t.Fatalf("floor %v, want the horizon's %v", got.Floor(), want)
	}
	if len(got.Items()) != 2 {
		t.Fatalf("items %+v, want milk and tea", got.Items())
	}
	sameAsEncoded(t, s, got)
}

// TestAFloorArrivingWithAWriteIsApplied: a client's store has no horizon
// of its own; a state arriving with a later floor makes it forget what the
// floor forgets, and deletes those parts.
func TestAFloorArrivingWithAWriteIsApplied(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "groceries", "milk", "eggs")
	if err := l.Remove(c, "eggs"); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, l)
	l.Compact(l.MaxStamp())
	mustSave(t, s, l.Delta(l.MaxStamp()))
	got := mustLoad(t, s, l.ID())
	if got.Tombstones() != 0 || partCount(t, s, l.ID()) != 2 || got.Floor() != l.Floor() {
		t.Fatalf("%d tombstones, %d parts, floor %v; want 0, 2, %v", got.Tombstones(), partCount(t, s, l.ID()), got.Floor(), l.Floor())
	}
	sameAsEncoded(t, s, got)
}

// TestTheStoreKeepsAtMostMaxTombstones: two replicas' states, each with
// the most removed items a list keeps, merge in the store into a list that
// keeps the newest MaxTombstones, which every replica can decode.
func TestTheStoreKeepsAtMostMaxTombstones(t *testing.T) {
	s := openTemp(t)
	base := newList(t, crdt.NewClock(uuid.New()), "groceries", "milk")
	mustSave(t, s, base)
	for r := range 2 {
		l, c := base.Clone(), crdt.NewClock(uuid.New())
		for i := range crdt.MaxTombstones {
			name := fmt.Sprintf("%d-%d", r, i)
			if err := l.Add(c, name, 1); err != nil {
				t.Fatal(err)
			}
			if err := l.Remove(c, name); err != nil {
				t.Fatal(err)
			}
		}
		mustSave(t, s, l)
	}
	got := mustLoad(t, s, base.ID())
	if got.Tombstones() != crdt.MaxTombstones {
		t.Fatalf("%d tombstones stored, want %d", got.Tombstones(), crdt.MaxTombstones)
	}
	enc, err := s.LoadEncoded(base.ID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crdt.Decode(enc); err != nil {
		t.Fatalf("the stored list does not decode: %v", err)
	}
	if _, ok := got.Lookup("milk"); !ok {
		t.Fatal("milk lost")
	}
}

// TestNamePartFloorReadsWhatDecodeReads: the floor read from a name part's
// bytes is the one decoding finds, with and without a floor, and a payload
// of another shape is left to the decoder.
func TestNamePartFloorReadsWhatDecodeReads(t *testing.T) {
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "groceries", "milk")
	if err := l.Remove(c, "milk"); err != nil {
		t.Fatal(err)
	}
	k := keyOf(l.ID())
	for _, floor := range []crdt.Timestamp{{}, l.MaxStamp()} {
		l.Compact(floor)
		head := l.Split()[0]
		got, ok := namePartFloor(k, head.Encode())
		if !ok || got != head.Floor() {
			t.Fatalf("floor %v: read %v %v, want %v", floor, got, ok, head.Floor())
		}
	}
	if _, ok := namePartFloor(keyOf(uuid.New()), l.Split()[0].Encode()); ok {
		t.Fatal("another list's name part was read")
	}
	if _, ok := namePartFloor(k, l.Split()[1%len(l.Split())].Encode()[:10]); ok {
		t.Fatal("a truncated payload was read")
	}
}
