package storage

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// TestRoundTrip: a saved list loads back byte-identical, survives reopening,
// and saving it again changes nothing.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "Groceries", "Milk", "Eggs", "Bread", "Ünïcödé Tea")
	if err := l.Buy(c, "eggs", 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(c, "bread"); err != nil {
		t.Fatal(err)
	}
	if !mustSave(t, s, l) {
		t.Fatal("first SaveMerge reported no change")
	}
	sameState(t, "after save", mustLoad(t, s, l.ID()), l)
	if mustSave(t, s, l) {
		t.Fatal("SaveMerge of the stored state reported a change")
	}
	if mustSave(t, s, l.Clone()) {
		t.Fatal("SaveMerge of a copy of the stored state reported a change")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir)
	sameState(t, "after reopen", mustLoad(t, s, l.ID()), l)
	if ok, err := s.Has(l.ID()); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
}

// randomEdit applies one random edit to l, ignoring edits that the list's
// rules refuse (buying more than remains, editing an absent item).
func randomEdit(rng *rand.Rand, c *crdt.Clock, l *crdt.List) {
	name := fmt.Sprintf("item %d", rng.IntN(12))
	switch rng.IntN(9) {
	case 0, 1, 2:
		_ = l.Add(c, name, int64(1+rng.IntN(3)))
	case 3:
		_ = l.SetWanted(c, name, int64(1+rng.IntN(5)))
	case 4:
		_ = l.Buy(c, name, 1)
	case 5:
		_ = l.Unbuy(c, name, 1)
	case 6:
		_ = l.Remove(c, name)
	case 7:
		_ = l.Rename(c, fmt.Sprintf("list %d", rng.IntN(100)))
	case 8:
		// A deleted list refuses edits: restore as often as delete.
		if l.Deleted() {
			_ = l.Restore(c)
		} else if rng.IntN(2) == 0 {
			_ = l.Delete(c)
		}
	}
}

// TestConvergesToJoin: replicas edit a list concurrently and push deltas and
// full states, in random order, sometimes twice; after every push the store
// holds exactly the join (computed in memory with crdt.Join) of everything
// pushed so far, and SaveMerge's changed flag tells the truth.
func TestConvergesToJoin(t *testing.T) {
	s := openTemp(t)
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 8 {
		c0 := crdt.NewClock(uuid.New())
		base := newList(t, c0, fmt.Sprintf("trial %d", trial))
		type replica struct {
			c      *crdt.Clock
			l      *crdt.List
			pushed crdt.Timestamp // max stamp at the last push
		}
		reps := make([]*replica, 3)
		for i := range reps {
			reps[i] = &replica{c: crdt.NewClock(uuid.New()), l: base.Clone()}
		}
		var want *crdt.List // join of everything pushed
		var pushes []*crdt.List
		for range 120 {
			r := reps[rng.IntN(len(reps))]
			switch rng.IntN(10) {
			case 0: // sync with another replica
				if err := r.l.Merge(reps[rng.IntN(len(reps))].l); err != nil {
					t.Fatal(err)
				}
				continue
			case 1: // re-push something already pushed
				if len(pushes) == 0 {
					continue
				}
				if mustSave(t, s, pushes[rng.IntN(len(pushes))]) {
					t.Fatal("re-pushing an old state changed the store")
				}
				continue
			}
			randomEdit(rng, r.c, r.l)
			push := r.l.Delta(r.pushed)
			if rng.IntN(4) == 0 {
				push = r.l.Clone()
			}
			r.pushed = r.l.MaxStamp()
			prevBytes := []byte(nil)
			if want != nil {
				prevBytes = want.Encode()
				j, err := crdt.Join(want, push)
				if err != nil {
					t.Fatal(err)
				}
				want = j
			} else {
				want = push.Clone()
			}
			changed := mustSave(t, s, push)
			if grew := string(prevBytes) != string(want.Encode()); changed != grew {
				t.Fatalf("SaveMerge changed = %v, but the join grew = %v", changed, grew)
			}
			pushes = append(pushes, push)
			if got, err := s.Load(base.ID()); errors.Is(err, ErrNotFound) {
				if want.Len() != 0 || want.Name() != "" {
					t.Fatal("Load: not found after pushing state")
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				sameState(t, "after push", got, want)
			}
		}
		// Every replica's full state merged: the store holds their join.
		for _, r := range reps {
			mustSave(t, s, r.l)
			j, err := crdt.Join(want, r.l)
			if err != nil {
				t.Fatal(err)
			}
			want = j
		}
		sameState(t, "after full merges", mustLoad(t, s, base.ID()), want)
	}
}

// TestNotFoundAndDelete covers absent lists, Delete, Has and Count.
func TestNotFoundAndDelete(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	if _, err := s.Load(uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of an absent list: %v, want ErrNotFound", err)
	}
	// A state with nothing in it stores nothing.
	empty := crdt.Empty(uuid.New())
	if mustSave(t, s, empty) {
		t.Fatal("saving an empty state reported a change")
	}
	if _, err := s.Load(empty.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after saving an empty state: %v, want ErrNotFound", err)
	}
	a := newList(t, c, "a", "x", "y")
	b := newList(t, c, "b", "z")
	mustSave(t, s, a)
	mustSave(t, s, b)
	if n, err := s.Count(); n != 2 || err != nil {
		t.Fatalf("Count = %d, %v; want 2", n, err)
	}
	if err := s.Delete(a.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(a.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: %v, want ErrNotFound", err)
	}
	if ok, err := s.Has(a.ID()); ok || err != nil {
		t.Fatalf("Has after Delete = %v, %v", ok, err)
	}
	if err := s.Delete(a.ID()); err != nil {
		t.Fatalf("deleting an absent list: %v", err)
	}
	if n, err := s.Count(); n != 1 || err != nil {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	sameState(t, "untouched list", mustLoad(t, s, b.ID()), b)
	// A deleted list can be stored again.
	mustSave(t, s, a)
	sameState(t, "re-saved list", mustLoad(t, s, a.ID()), a)
}

// TestRejects covers inputs SaveMerge refuses without writing.
func TestRejects(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())

	v1 := crdt.Empty(uuid.Must(uuid.NewUUID())) // version 1: Decode would refuse it
	if err := v1.Rename(c, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveMerge(v1); err == nil {
		t.Fatal("SaveMerge accepted a list whose ID is not a version 4 UUID")
	}

	// The entry cap holds across parts: a list at crdt.MaxEntries items
	// (the union of replicas that each added up to the item limit) takes no
	// new item, but its items can still change.
	full := newList(t, c, "full")
	for r := range crdt.MaxEntries / crdt.MaxItems {
		part, rc := crdt.Empty(full.ID()), crdt.NewClock(uuid.New())
		for i := range crdt.MaxItems {
			if err := part.Add(rc, fmt.Sprintf("i%d", r*crdt.MaxItems+i), 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := full.Merge(part); err != nil {
			t.Fatal(err)
		}
	}
	c.Observe(full.MaxStamp())
	mustSave(t, s, full)
	extra := crdt.Empty(full.ID())
	if err := extra.Add(c, "one too many", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveMerge(extra); !errors.Is(err, crdt.ErrTooLarge) {
		t.Fatalf("SaveMerge past the item limit: %v, want crdt.ErrTooLarge", err)
	}
	before := full.MaxStamp()
	if err := full.Buy(c, "i7", 1); err != nil {
		t.Fatal(err)
	}
	if !mustSave(t, s, full.Delta(before)) {
		t.Fatal("editing an item of a full list changed nothing")
	}
	sameState(t, "full list", mustLoad(t, s, full.ID()), full)
}

// TestCloseWhileBusy: Close waits for operations in flight; every operation
// either completes or fails with ErrClosed, and nothing touches the engine
// after it closes (the race detector and Pebble's own checks would tell).
func TestCloseWhileBusy(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "busy", "a")
	mustSave(t, s, l)
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	var saved atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				d := crdt.Empty(l.ID())
				if err := d.Add(c, fmt.Sprintf("w%d-%d", w, i), 1); err != nil {
					t.Error(err)
					return
				}
				_, err := s.SaveMerge(d)
				once.Do(func() { close(started) })
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				saved.Add(1)
				if _, err := s.Load(l.ID()); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
					return
				}
			}
		})
	}
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// Every acknowledged write is there after reopening.
	s = openAt(t, dir)
	if got := mustLoad(t, s, l.ID()); int64(got.Len()) != saved.Load()+1 {
		t.Fatalf("%d items after reopening, want %d", got.Len(), saved.Load()+1)
	}
}
