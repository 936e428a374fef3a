package storage

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// TestConcurrentSaveMergeOneList: 50 goroutines, each a replica with its own
// clock, save-merge deltas into one list at once: each adds to its own item
// and to one shared item, every round. Afterwards every item is present with
// the right counts (no read-modify-write lost an update) and the stored state
// is exactly the join of the replicas' final states.
func TestConcurrentSaveMergeOneList(t *testing.T) {
	const writers, rounds = 50, 10
	s := openTemp(t)
	base := newList(t, crdt.NewClock(uuid.New()), "party")
	mustSave(t, s, base)

	finals := make([]*crdt.List, writers)
	errs := make(chan error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			c := crdt.NewClock(uuid.New())
			l := base.Clone()
			<-start
			for r := range rounds {
				before := l.MaxStamp()
				if err := l.Add(c, fmt.Sprintf("item %02d", w), int64(w+1)); err != nil {
					errs <- err
					return
				}
				if err := l.Add(c, "shared", 1); err != nil {
					errs <- err
					return
				}
				changed, err := s.SaveMerge(l.Delta(before))
				if err != nil || !changed {
					errs <- fmt.Errorf("writer %d round %d: SaveMerge = %v, %v", w, r, changed, err)
					return
				}
			}
			finals[w] = l
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	got := mustLoad(t, s, base.ID())
	want := base.Clone()
	for w, l := range finals {
		if err := want.Merge(l); err != nil {
			t.Fatal(err)
		}
		v, ok := got.Lookup(fmt.Sprintf("item %02d", w))
		if !ok || v.Wanted != int64(rounds*(w+1)) {
			t.Errorf("item %02d: %+v (present %v), want wanted = %d", w, v, ok, rounds*(w+1))
		}
	}
	if v, ok := got.Lookup("shared"); !ok || v.Wanted != writers*rounds {
		t.Errorf("shared: %+v (present %v), want wanted = %d", v, ok, writers*rounds)
	}
	if n := len(got.Items()); n != writers+1 {
		t.Errorf("%d items, want %d", n, writers+1)
	}
	sameState(t, "after concurrent merges", got, want)
}
