package crdt

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// tombstones returns a list holding n removed items made directly, past
// the bound the edits keep: what a hostile peer could send.
func tombstones(n int) *List {
	l := Empty(listID)
	for i := range n {
		k := fmt.Sprintf("gone %05d", i)
		add := Timestamp{Wall: int64(1000 + 2*i), Replica: replicaID(1)}
		rm := Timestamp{Wall: add.Wall + 1, Replica: replicaID(1)}
		s := slot{stamp: add, counts: counts{wantAdd: 1}}
		c := s.withExt(Timestamp{}, rm)
		l.items[k] = &item{key: k, display: register{k, add}, slots: []slot{s}, cut: []slot{c}, removed: rm}
	}
	return l
}

// TestAStateWithMoreTombstonesThanTheBoundIsRefused: the push that could
// brick a list, 5,000 removed items, is refused whole at decode; a state at
// the bound decodes.
func TestAStateWithMoreTombstonesThanTheBoundIsRefused(t *testing.T) {
	if _, err := Decode(tombstones(5000).Encode()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("5000 tombstones: %v, want ErrTooLarge", err)
	}
	if _, err := Decode(tombstones(MaxTombstones + 1).Encode()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d tombstones: %v, want ErrTooLarge", MaxTombstones+1, err)
	}
	l, err := Decode(tombstones(MaxTombstones).Encode())
	if err != nil {
		t.Fatalf("%d tombstones refused: %v", MaxTombstones, err)
	}
	c := NewClock(replicaID(2))
	must(t, l.Add(c, "milk", 1))
	if v := mustItem(t, l, "milk"); v.Wanted != 1 {
		t.Fatalf("milk on a list at the bound: %+v", v)
	}
}

// TestMergeKeepsTheNewestTombstonesInAnyOrder: replicas that each removed
// up to the bound merge, in any order, into the same state holding the
// newest MaxTombstones removes, which decodes.
func TestMergeKeepsTheNewestTombstonesInAnyOrder(t *testing.T) {
	a, b, c := newReplica(1, 0), newReplica(2, 0), newReplica(3, 0)
	for i := range MaxTombstones {
		for _, r := range []*replica{a, b} {
			name := fmt.Sprintf("%d-%d", r.clock.Replica()[15], i)
			must(t, r.list.Add(r.clock, name, 1))
			must(t, r.list.Remove(r.clock, name))
			r.time.advance(time.Millisecond)
		}
	}
	must(t, c.list.Add(c.clock, "milk", 2))
	ab := join(t, a.list, b.list)
	sameBytes(t, "a⊔b = b⊔a", ab, join(t, b.list, a.list))
	sameBytes(t, "(a⊔b)⊔c = a⊔(b⊔c)", join(t, ab, c.list), join(t, a.list, join(t, b.list, c.list)))
	sameBytes(t, "a⊔b⊔a = a⊔b", join(t, ab, a.list), ab)
	if ab.Tombstones() != MaxTombstones {
		t.Fatalf("%d tombstones after the merge, want %d", ab.Tombstones(), MaxTombstones)
	}
	// Each replica's removes interleave by the clock, so the newest half of
	// each side is kept.
	for _, k := range []string{"1-0", "2-0", fmt.Sprintf("1-%d", MaxTombstones/2-1)} {
		if _, kept := ab.items[k]; kept {
			t.Errorf("%s, among the oldest removes, is kept", k)
		}
	}
	for _, k := range []string{fmt.Sprintf("1-%d", MaxTombstones-1), fmt.Sprintf("2-%d", MaxTombstones/2)} {
		if _, kept := ab.items[k]; !kept {
			t.Errorf("%s, among the newest removes, is forgotten", k)
		}
	}
	if _, err := Decode(ab.Encode()); err != nil {
		t.Fatalf("the merge does not decode: %v", err)
	}
}

// TestTheFloorForgetsRemovedItemsAndTravels: compacting at a floor past a
// remove forgets the tombstone and nothing a person sees; a replica that
// receives a delta carrying the floor forgets the same.
func TestTheFloorForgetsRemovedItemsAndTravels(t *testing.T) {
	rs := shared(t, 2, "milk", "eggs", "jam")
	a, b := rs[0], rs[1]
	must(t, a.list.SetCategory(a.clock, "eggs", "dairy"))
	must(t, a.list.Remove(a.clock, "eggs"))
	syncAll(t, a, b)
	before := a.list.Items()
	point := a.list.MaxStamp()
	if n := a.list.Compact(point); n != 1 {
		t.Fatalf("Compact forgot %d items, want 1 (eggs)", n)
	}
	if _, kept := a.list.items["eggs"]; kept || a.list.Tombstones() != 0 {
		t.Fatalf("eggs still kept after compaction: %d tombstones", a.list.Tombstones())
	}
	if got := a.list.Items(); !slices.Equal(got, before) {
		t.Fatalf("compaction changed what the list shows:\n%+v\n%+v", before, got)
	}
	must(t, a.list.Add(a.clock, "tea", 1))
	b.receive(t, a.list.Delta(point))
	if _, kept := b.list.items["eggs"]; kept {
		t.Fatal("the floor in a delta did not make the other replica forget eggs")
	}
	sameBytes(t, "after the delta", b.list, a.list)
	// Adding eggs again starts afresh: no category, the new quantity only.
	must(t, b.list.Add(b.clock, "eggs", 2))
	if v := mustItem(t, b.list, "eggs"); v.Wanted != 2 || v.Category != "" {
		t.Fatalf("eggs added again: %+v, want 2 and no category", v)
	}
}

// TestAnItemAddedAgainAfterBeingForgottenStartsAfresh: a replica that forgot
// an item and adds it again starts its totals from zero; a stale copy of
// the remove, holding the old totals, must not cancel the new ones, in
// either direction of the merge, and the result decodes.
func TestAnItemAddedAgainAfterBeingForgottenStartsAfresh(t *testing.T) {
	r := newReplica(1, 0)
	must(t, r.list.Add(r.clock, "eggs", 5))
	must(t, r.list.Remove(r.clock, "eggs"))
	stale := r.list.Clone() // another replica's copy, floor not yet raised
	r.list.Compact(r.list.MaxStamp())
	r.time.advance(time.Second)
	must(t, r.list.Add(r.clock, "eggs", 1))
	for name, merged := range map[string]*List{"new ⊔ stale": join(t, r.list, stale), "stale ⊔ new": join(t, stale, r.list)} {
		if v := mustItem(t, merged, "eggs"); v.Wanted != 1 {
			t.Fatalf("%s: eggs %+v, want 1 wanted", name, v)
		}
		if _, err := Decode(merged.Encode()); err != nil {
			t.Fatalf("%s does not decode: %v", name, err)
		}
		sameBytes(t, name, merged, r.list)
	}
}

// TestMergeCompleteDropsWhatTheClusterForgot: a replica offline for longer
// than the horizon comes back to a cluster that removed milk and forgot the
// tombstone. Merging the cluster's state as complete drops milk (which it
// never saw removed) and tea (added offline before the floor, never
// pushed), names both, and keeps jam (added after the floor).
func TestMergeCompleteDropsWhatTheClusterForgot(t *testing.T) {
	rs := shared(t, 2, "milk", "bread")
	cluster, away := rs[0], rs[1]
	must(t, away.list.Add(away.clock, "tea", 1))
	cluster.time.advance(time.Hour)
	must(t, cluster.list.Remove(cluster.clock, "milk"))
	cluster.list.Compact(cluster.list.MaxStamp())
	floor := cluster.list.Floor()
	away.time.advance(2 * time.Hour)
	must(t, away.list.Add(away.clock, "jam", 1))

	plain := join(t, away.list, cluster.list)
	if _, ok := plain.Lookup("milk"); !ok {
		t.Fatal("control: a plain merge should bring milk back; the test shows nothing")
	}
	dropped, err := away.list.MergeComplete(cluster.list)
	must(t, err)
	if !slices.Equal(dropped, []string{"milk", "tea"}) {
		t.Fatalf("dropped %q, want milk and tea", dropped)
	}
	for _, name := range []string{"milk", "tea"} {
		if _, ok := away.list.Lookup(name); ok {
			t.Errorf("%s came back", name)
		}
	}
	for _, name := range []string{"bread", "jam"} {
		mustItem(t, away.list, name)
	}
	if away.list.Floor() != floor {
		t.Fatalf("floor %v, want the cluster's %v", away.list.Floor(), floor)
	}
	if _, err := Decode(away.list.Encode()); err != nil {
		t.Fatal(err)
	}
}

// TestARemoveClearsTheTextsItSaw: category and note set before a remove
// are gone when the item is added again; one set after it stays.
func TestARemoveClearsTheTextsItSaw(t *testing.T) {
	r := newReplica(1, 0)
	must(t, r.list.Add(r.clock, "eggs", 1))
	must(t, r.list.SetCategory(r.clock, "eggs", "dairy"))
	must(t, r.list.SetNote(r.clock, "eggs", "free range"))
	must(t, r.list.Remove(r.clock, "eggs"))
	must(t, r.list.Add(r.clock, "eggs", 1))
	if v := mustItem(t, r.list, "eggs"); v.Category != "" || v.Note != "" {
		t.Fatalf("eggs added again: %+v, want no category or note", v)
	}
	must(t, r.list.SetCategory(r.clock, "eggs", "fridge"))
	if v := mustItem(t, r.list, "eggs"); v.Category != "fridge" {
		t.Fatalf("eggs: %+v, want category fridge", v)
	}
}
