package storage

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
)

// inArc is the brute-force definition of RangeIDs' arc (start, end].
func inArc(p, start, end uint64) bool {
	switch {
	case start < end:
		return start < p && p <= end
	case start > end:
		return p > start || p <= end
	}
	return true // start == end: the whole ring
}

// TestRangeIDs compares IDs and RangeIDs with a brute-force computation over
// many arcs, including wrapping ones, empty-looking ones, the ring's ends,
// and arcs that start or end exactly at a stored position.
func TestRangeIDs(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	const lists = 300
	stored := make([]uuid.UUID, lists)
	var wg sync.WaitGroup
	for i := range lists {
		l := newList(t, c, "list", "a", "b", "c") // several keys per list
		stored[i] = l.ID()
		wg.Go(func() {
			if _, err := s.SaveMerge(l); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	pos := func(id uuid.UUID) uint64 { return hashring.Position(id.String()) }
	ringOrder := func(a, b uuid.UUID) int {
		return cmp.Or(cmp.Compare(pos(a), pos(b)), slices.Compare(a[:], b[:]))
	}
	slices.SortFunc(stored, ringOrder)

	ids, err := s.IDs()
	if err != nil || !slices.Equal(ids, stored) {
		t.Fatalf("IDs() = %d IDs, %v; want the %d stored IDs in ring order", len(ids), err, len(stored))
	}
	if n, err := s.Count(); n != lists || err != nil {
		t.Fatalf("Count = %d, %v", n, err)
	}

	rng := rand.New(rand.NewPCG(1, 1))
	const maxU = ^uint64(0)
	p0, pLast := pos(stored[0]), pos(stored[lists-1])
	edges := []uint64{0, 1, maxU, maxU - 1, p0, p0 - 1, p0 + 1, pLast, pLast - 1, pLast + 1}
	pick := func() uint64 {
		switch rng.IntN(3) {
		case 0:
			return edges[rng.IntN(len(edges))]
		case 1:
			p := pos(stored[rng.IntN(lists)])
			return p + uint64(rng.IntN(3)) - 1 // at a stored position, or next to one
		}
		return rng.Uint64()
	}
	for i := range 2000 {
		start, end := pick(), pick()
		if i%50 == 0 {
			end = start
		}
		var want []uuid.UUID
		for _, id := range stored {
			if inArc(pos(id), start, end) {
				want = append(want, id)
			}
		}
		// Arc order: after start, wrapping to 0.
		slices.SortStableFunc(want, func(a, b uuid.UUID) int {
			return cmp.Compare(pos(a)-start-1, pos(b)-start-1)
		})
		got, err := s.RangeIDs(start, end)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("RangeIDs(%#x, %#x) = %d IDs, want %d", start, end, len(got), len(want))
		}
	}

	// The arcs of a ring partition it: every list in exactly one.
	cuts := []uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), p0}
	slices.Sort(cuts)
	seen := map[uuid.UUID]int{}
	for i := range cuts {
		got, err := s.RangeIDs(cuts[i], cuts[(i+1)%len(cuts)])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range got {
			seen[id]++
		}
	}
	for _, id := range stored {
		if seen[id] != 1 {
			t.Fatalf("list %s is in %d arcs of a partition of the ring", id, seen[id])
		}
	}
}
