package crdt

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// authors are the display names of the sim's replicas, by index; "" for
// none.
var authors = []string{"Ann", "", "Cat", "", "Eve"}

var names = []string{"milk", "Milk", " milk ", "eggs", "EGGS", "bread", "jam", "tea", "Äpfel", "äpfel", "Straße", "STRASSE", "ﬁsh"}

// sim is a seeded random history of edits and message deliveries on a few
// replicas of one list.
type sim struct {
	t        *testing.T
	rng      *rand.Rand
	replicas []*replica
	inflight []message
}

type message struct {
	to    int
	state *List
}

func newSim(t *testing.T, seed uint64) *sim {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := 3 + rng.IntN(3)
	s := &sim{t: t, rng: rng}
	for i := 0; i < n; i++ {
		skew := time.Duration(rng.IntN(7200)-3600) * time.Second
		r := newReplica(byte(i+1), skew)
		if name := authors[i]; name != "" {
			// Some replicas sign their edits, others not (author.go).
			if err := r.clock.SetAuthor(name); err != nil {
				panic(err)
			}
		}
		s.replicas = append(s.replicas, r)
	}
	return s
}

// edit applies one random edit at replica r; refused edits (over-buy, absent
// item) are part of the game.
func (s *sim) edit(r *replica) {
	if s.rng.IntN(3) > 0 {
		r.time.advance(time.Duration(s.rng.IntN(1500)) * time.Millisecond)
	}
	name := names[s.rng.IntN(len(names))]
	l, c := r.list, r.clock
	switch s.rng.IntN(12) {
	case 0, 1, 2:
		_ = l.Add(c, name, int64(1+s.rng.IntN(3)))
	case 3:
		_ = l.SetWanted(c, name, int64(1+s.rng.IntN(5)))
	case 4:
		if v, ok := l.Lookup(name); ok && v.Remaining > 0 {
			_ = l.Buy(c, name, 1+s.rng.Int64N(v.Remaining))
		}
	case 5:
		_ = l.Unbuy(c, name, 1)
	case 6:
		_ = l.Remove(c, name)
	case 7:
		_ = l.Rename(c, names[s.rng.IntN(len(names))]+" list")
	case 8:
		_ = l.Decrease(c, name, 1)
	case 9:
		_ = l.SetCategory(c, name, names[s.rng.IntN(len(names))])
	case 10:
		_ = l.SetNote(c, name, "note "+names[s.rng.IntN(len(names))])
	case 11:
		// Deletes are rarer than restores, so histories keep editing.
		if l.Deleted() {
			_ = l.Restore(c)
		} else if s.rng.IntN(3) == 0 {
			_ = l.Delete(c)
		}
	}
}

// send queues some state of replica i for replica j: the full state, a delta
// since a random earlier stamp, or one part of it.
func (s *sim) send(i, j int) {
	l := s.replicas[i].list
	var st *List
	switch s.rng.IntN(3) {
	case 0:
		st = l.Clone()
	case 1:
		since := Timestamp{Wall: l.MaxStamp().Wall - int64(s.rng.IntN(5000))}
		st = l.Delta(since)
	case 2:
		parts := l.Split()
		st = parts[s.rng.IntN(len(parts))]
	}
	s.inflight = append(s.inflight, message{to: j, state: st})
}

// deliver delivers a random in-flight message, sometimes keeping it to be
// delivered again (duplication).
func (s *sim) deliver() {
	k := s.rng.IntN(len(s.inflight))
	m := s.inflight[k]
	if s.rng.IntN(4) > 0 {
		s.inflight = append(s.inflight[:k], s.inflight[k+1:]...)
	}
	s.replicas[m.to].receive(s.t, m.state)
}

// compact brings every replica up to date, so every edit stamped up to now
// is stable (every replica has it, and every later edit is stamped after
// it), then compacts one replica at that point, as a storage server does at
// its horizon: it must not change what the list shows. The floor reaches
// the others in the states it sends.
//
// Messages in flight are delivered first: the horizon assumes that no state
// from before it is merged after it. One that is, like a replica's copy
// offline for longer than the horizon, is the case MergeComplete handles
// (compact_test.go).
func (s *sim) compact() {
	n := len(s.replicas)
	for _, m := range s.inflight {
		s.replicas[m.to].receive(s.t, m.state)
	}
	s.inflight = s.inflight[:0]
	for range 2 {
		for i := range n {
			for j := range n {
				s.replicas[j].receive(s.t, s.replicas[i].list)
			}
		}
	}
	r := s.replicas[s.rng.IntN(n)]
	shown := func() []ItemView { // what a person sees: all but Modified
		items := r.list.Items()
		for i := range items {
			items[i].Modified = Timestamp{}
		}
		return items
	}
	before := shown()
	r.list.Compact(r.list.MaxStamp())
	if after := shown(); !slices.Equal(before, after) {
		s.t.Fatalf("compacting a stable state changed it:\n%+v\n%+v", before, after)
	}
}

func (s *sim) run(steps int) {
	n := len(s.replicas)
	for step := 0; step < steps; step++ {
		switch r := s.rng.IntN(10); {
		case s.rng.IntN(60) == 0:
			s.compact()
		case r < 5:
			s.edit(s.replicas[s.rng.IntN(n)])
		case r < 8:
			s.send(s.rng.IntN(n), s.rng.IntN(n))
		case len(s.inflight) > 0:
			s.deliver()
		}
	}
	// Some messages are lost for good; the final anti-entropy round sends
	// full states both ways, in random order, twice.
	s.rng.Shuffle(len(s.inflight), func(a, b int) { s.inflight[a], s.inflight[b] = s.inflight[b], s.inflight[a] })
	for _, m := range s.inflight[:len(s.inflight)/2] {
		s.replicas[m.to].receive(s.t, m.state)
	}
	for range 2 {
		for _, i := range s.rng.Perm(n) {
			for _, j := range s.rng.Perm(n) {
				s.replicas[j].receive(s.t, s.replicas[i].list)
			}
		}
	}
}

func TestRandomHistoriesConvergeToIdenticalBytes(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		s := newSim(t, seed)
		s.run(200)
		want := s.replicas[0].list.Encode()
		for i, r := range s.replicas {
			if r.list.Present() != r.list.countPresent() {
				t.Fatalf("seed %d: replica %d counts %d present items, holds %d", seed, i, r.list.Present(), r.list.countPresent())
			}
		}
		for i, r := range s.replicas[1:] {
			if got := r.list.Encode(); !bytes.Equal(got, want) {
				t.Fatalf("seed %d: replica %d diverged:\n%x\nvs replica 0:\n%x", seed, i+1, got, want)
			}
		}
		back, err := Decode(want)
		if err != nil {
			t.Fatalf("seed %d: converged state does not decode: %v", seed, err)
		}
		sameBytes(t, "decode round trip", back, s.replicas[0].list)
	}
}

// randomStates returns three states of one list from a random history,
// taken before full convergence so they differ.
func randomStates(t *testing.T, seed uint64) (a, b, c *List) {
	s := newSim(t, seed)
	for step := 0; step < 120; step++ {
		if s.rng.IntN(40) == 0 {
			s.compact()
		}
		s.edit(s.replicas[s.rng.IntN(len(s.replicas))])
		if s.rng.IntN(6) == 0 {
			s.send(s.rng.IntN(len(s.replicas)), s.rng.IntN(len(s.replicas)))
			s.deliver()
		}
	}
	return s.replicas[0].list, s.replicas[1].list, s.replicas[2].list
}

func join(t *testing.T, a, b *List) *List {
	t.Helper()
	j, err := Join(a, b)
	must(t, err)
	return j
}

func TestMergeIsAJoin(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		a, b, c := randomStates(t, seed)
		sameBytes(t, "commutative", join(t, a, b), join(t, b, a))
		sameBytes(t, "associative", join(t, join(t, a, b), c), join(t, a, join(t, b, c)))
		sameBytes(t, "idempotent", join(t, a, a), a)
		ab := join(t, a, b)
		sameBytes(t, "absorbs its part", join(t, ab, b), ab)
	}
}

func TestDeltaMergesLikeTheFullState(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		a, b, _ := randomStates(t, seed)
		// b has seen a's state up to a point; a edits on; shipping the delta
		// since that point must be as good as shipping everything.
		point := a.MaxStamp()
		b2 := join(t, b, a)
		a2 := a.Clone()
		r := &replica{clock: NewClockWith(replicaID(9), newFakeTime(time.Hour).now)}
		must(t, r.clock.SetAuthor("Late"))
		if a2.Deleted() {
			must(t, a2.Restore(r.clock))
		}
		must(t, a2.Add(r.clock, "late item", 2))
		must(t, a2.Rename(r.clock, "renamed"))
		_ = a2.Remove(r.clock, "milk")
		sameBytes(t, "delta vs full", join(t, b2, a2.Delta(point)), join(t, b2, a2))
		sameBytes(t, "delta of everything", a2.Delta(Timestamp{}), a2)
	}
}

func TestSplitPartsMergeBackToTheWhole(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		a, _, _ := randomStates(t, seed)
		parts := a.Split()
		if len(parts) != a.Len()+1 {
			t.Fatalf("seed %d: %d parts for %d items", seed, len(parts), a.Len())
		}
		whole := Empty(a.ID())
		for _, i := range rand.Perm(len(parts)) {
			must(t, whole.Merge(parts[i]))
		}
		sameBytes(t, "split and merge", whole, a)
	}
}

func TestModifiedAfterAgreesWithModified(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		a, b, c := randomStates(t, seed)
		for _, l := range []*List{a, b, c} {
			for k, it := range l.items {
				// Every stamp on the item, and none: an item whose newest
				// stamp is one field alone is asked about the next newest.
				ts := []Timestamp{{}, it.display.at, it.category.at, it.note.at, it.author.at, it.removed, it.legacyRemoved, it.set.at}
				for _, s := range it.slots {
					ts = append(ts, s.stamp)
				}
				for _, ts := range ts {
					if got, want := it.modifiedAfter(ts), it.modified().After(ts); got != want {
						t.Fatalf("seed %d, item %q: modifiedAfter(%v) = %v, modified() %v is after it: %v", seed, k, ts, got, it.modified(), want)
					}
				}
			}
		}
	}
}

// TestModifiedAfterSeesEveryStamp makes each stamp on an item in turn the
// only one newer than a point, including those random histories never
// make the newest (a version 1 remove, the wanted set).
func TestModifiedAfterSeesEveryStamp(t *testing.T) {
	point, newer := Timestamp{Wall: 1}, Timestamp{Wall: 2}
	for name, set := range map[string]func(*item){
		"display":       func(it *item) { it.display.at = newer },
		"category":      func(it *item) { it.category.at = newer },
		"note":          func(it *item) { it.note.at = newer },
		"author":        func(it *item) { it.author.at = newer },
		"removed":       func(it *item) { it.removed = newer },
		"legacyRemoved": func(it *item) { it.legacyRemoved = newer },
		"set":           func(it *item) { it.set.at = newer },
		"slot":          func(it *item) { it.slots = []slot{{stamp: newer}} },
	} {
		var it item
		set(&it)
		if !it.modifiedAfter(point) || it.modified() != newer {
			t.Errorf("%s newer than the point: modifiedAfter %v, modified %v", name, it.modifiedAfter(point), it.modified())
		}
		if it.modifiedAfter(newer) {
			t.Errorf("%s: modifiedAfter its own stamp", name)
		}
	}
}
