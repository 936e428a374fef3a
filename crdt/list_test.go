package crdt

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// sync merges every replica's state into every other, in both directions.
func syncAll(t *testing.T, rs ...*replica) {
	t.Helper()
	for _, a := range rs {
		for _, b := range rs {
			if a != b {
				b.receive(t, a.list)
			}
		}
	}
}

// shared returns n replicas that all hold a list with the given items (each
// quantity 1) after a sync.
func shared(t *testing.T, n int, items ...string) []*replica {
	t.Helper()
	rs := make([]*replica, n)
	for i := range rs {
		rs[i] = newReplica(byte(i+1), 0)
	}
	must(t, rs[0].list.Rename(rs[0].clock, "groceries"))
	for _, it := range items {
		must(t, rs[0].list.Add(rs[0].clock, it, 1))
	}
	syncAll(t, rs...)
	for _, r := range rs {
		r.time.advance(time.Second)
	}
	return rs
}

func TestConcurrentAddOfSameItemGivesOneItemWithBothCounts(t *testing.T) {
	rs := shared(t, 2)
	a, b := rs[0], rs[1]
	must(t, a.list.Add(a.clock, "Milk", 1))
	must(t, b.list.Add(b.clock, "  milk ", 2))
	syncAll(t, a, b)
	sameBytes(t, "converged", a.list, b.list)
	items := a.list.Items()
	if len(items) != 1 {
		t.Fatalf("want one item, got %+v", items)
	}
	if items[0].Key != "milk" || items[0].Wanted != 3 {
		t.Fatalf("got %+v, want key milk wanted 3", items[0])
	}
	if n := items[0].Name; n != "Milk" && n != "milk" {
		t.Fatalf("displayed name %q is neither of the names typed", n)
	}
}

func TestConcurrentIncrementsAddUp(t *testing.T) {
	rs := shared(t, 3, "eggs")
	for _, r := range rs {
		must(t, r.list.Add(r.clock, "eggs", 1))
	}
	must(t, rs[2].list.Buy(rs[2].clock, "eggs", 2))
	must(t, rs[0].list.Buy(rs[0].clock, "eggs", 1))
	syncAll(t, rs...)
	v := mustItem(t, rs[1].list, "eggs")
	if v.Wanted != 4 || v.Bought != 3 || v.Remaining != 1 || v.Acquired {
		t.Fatalf("got %+v, want wanted 4 bought 3 remaining 1", v)
	}
}

func TestStaleReplicaCannotResurrectRemovedItem(t *testing.T) {
	rs := shared(t, 3, "flour")
	a, b, c := rs[0], rs[1], rs[2]
	stale := c.list.Clone() // c's state from before the remove
	must(t, a.list.Remove(a.clock, "flour"))
	b.receive(t, a.list)
	b.receive(t, stale) // the old state arrives late, and again
	b.receive(t, stale)
	if _, ok := b.list.Lookup("flour"); ok {
		t.Fatal("a stale state brought back a removed item")
	}
	if b.list.Len() != 1 {
		t.Fatalf("tombstone not kept: %d items in state", b.list.Len())
	}
}

func TestReAddStartsFresh(t *testing.T) {
	rs := shared(t, 2, "rice")
	a, b := rs[0], rs[1]
	must(t, a.list.SetWanted(a.clock, "rice", 5))
	must(t, a.list.Buy(a.clock, "rice", 3))
	syncAll(t, a, b)
	old := b.list.Clone()
	must(t, a.list.Remove(a.clock, "rice"))
	must(t, a.list.Add(a.clock, "Rice", 1))
	b.receive(t, a.list)
	b.receive(t, old)
	v := mustItem(t, b.list, "rice")
	if v.Wanted != 1 || v.Bought != 0 || v.Name != "Rice" {
		t.Fatalf("got %+v, want a fresh Rice with wanted 1 bought 0", v)
	}
}

func TestBuyingMoreThanRemainsIsAnErrorAndChangesNothing(t *testing.T) {
	rs := shared(t, 1, "apples")
	r := rs[0]
	must(t, r.list.SetWanted(r.clock, "apples", 3))
	must(t, r.list.Buy(r.clock, "apples", 2))
	before := r.list.Encode()
	err := r.list.Buy(r.clock, "apples", 2)
	if !errors.Is(err, ErrOverBuy) {
		t.Fatalf("got %v, want ErrOverBuy", err)
	}
	if string(before) != string(r.list.Encode()) {
		t.Fatal("a refused buy changed the list")
	}
	must(t, r.list.Buy(r.clock, "apples", 1))
	if v := mustItem(t, r.list, "apples"); !v.Acquired || v.Remaining != 0 {
		t.Fatalf("got %+v, want acquired", v)
	}
	must(t, r.list.Unbuy(r.clock, "apples", 1))
	if v := mustItem(t, r.list, "apples"); v.Acquired || v.Remaining != 1 {
		t.Fatalf("after unbuy got %+v", v)
	}
}

func TestConcurrentBuysNeverShowNegativeRemaining(t *testing.T) {
	rs := shared(t, 2, "lemon")
	must(t, rs[0].list.Buy(rs[0].clock, "lemon", 1))
	must(t, rs[1].list.Buy(rs[1].clock, "lemon", 1))
	syncAll(t, rs...)
	if v := mustItem(t, rs[0].list, "lemon"); v.Remaining != 0 || !v.Acquired || v.Bought != 2 {
		t.Fatalf("got %+v, want bought 2, remaining 0, acquired", v)
	}
}

func TestReplicaAnHourBehindStillWinsWithLaterEdits(t *testing.T) {
	ahead := newReplica(1, 0)
	behind := newReplica(2, -time.Hour)
	must(t, ahead.list.Rename(ahead.clock, "from ahead"))
	must(t, ahead.list.Add(ahead.clock, "cheese", 1))
	behind.receive(t, ahead.list)
	// Causally after: behind has seen ahead's edits, so its edits must win
	// although its wall clock reads an hour earlier.
	must(t, behind.list.Rename(behind.clock, "from behind"))
	must(t, behind.list.Remove(behind.clock, "cheese"))
	ahead.receive(t, behind.list)
	if got := ahead.list.Name(); got != "from behind" {
		t.Fatalf("name %q, want the causally later rename", got)
	}
	if _, ok := ahead.list.Lookup("cheese"); ok {
		t.Fatal("the causally later remove lost to an earlier add")
	}
}

func TestEditsObserveTheListsStampsEvenWithoutMerge(t *testing.T) {
	ahead := newReplica(1, time.Hour)
	must(t, ahead.list.Add(ahead.clock, "salt", 1))
	// A replica that loads a list (e.g. decoded from disk) without having
	// observed its stamps still stamps its edits after them.
	decoded, err := Decode(ahead.list.Encode())
	must(t, err)
	behind := newReplica(2, 0)
	must(t, decoded.Remove(behind.clock, "salt"))
	must(t, ahead.list.Merge(decoded))
	if _, ok := ahead.list.Lookup("salt"); ok {
		t.Fatal("an edit on a loaded list was stamped before the list's own stamps")
	}
}

func TestBadInputIsATypedErrorAndChangesNothing(t *testing.T) {
	rs := shared(t, 1, "oil")
	r := rs[0]
	before := string(r.list.Encode())
	cases := []struct {
		name string
		op   func() error
		want error
	}{
		{"empty item", func() error { return r.list.Add(r.clock, "   ", 1) }, ErrInvalidName},
		{"zero quantity", func() error { return r.list.Add(r.clock, "tea", 0) }, ErrInvalidQuantity},
		{"negative quantity", func() error { return r.list.Add(r.clock, "tea", -2) }, ErrInvalidQuantity},
		{"huge quantity", func() error { return r.list.Add(r.clock, "tea", MaxQuantity+1) }, ErrInvalidQuantity},
		{"over-long name", func() error { return r.list.Add(r.clock, strings.Repeat("x", MaxNameBytes+1), 1) }, ErrInvalidName},
		{"control character", func() error { return r.list.Add(r.clock, "tea\x1b[2J", 1) }, ErrInvalidName},
		{"invalid UTF-8", func() error { return r.list.Add(r.clock, "te\xffa", 1) }, ErrInvalidName},
		{"empty list name", func() error { return r.list.Rename(r.clock, "") }, ErrInvalidName},
		{"remove absent", func() error { return r.list.Remove(r.clock, "tea") }, ErrNotFound},
		{"buy absent", func() error { return r.list.Buy(r.clock, "tea", 1) }, ErrNotFound},
		{"buy zero", func() error { return r.list.Buy(r.clock, "oil", 0) }, ErrInvalidQuantity},
		{"unbuy unbought", func() error { return r.list.Unbuy(r.clock, "oil", 1) }, ErrInvalidQuantity},
		{"set wanted zero", func() error { return r.list.SetWanted(r.clock, "oil", 0) }, ErrInvalidQuantity},
	}
	for _, tc := range cases {
		if err := tc.op(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if string(r.list.Encode()) != before {
		t.Fatal("a refused edit changed the list")
	}
}

func TestMergeNeverAliasesItsArgument(t *testing.T) {
	rs := shared(t, 2, "pasta")
	a, b := rs[0], rs[1]
	must(t, b.list.Add(b.clock, "sauce", 1))
	bBefore := string(b.list.Encode())
	must(t, a.list.Merge(b.list))
	must(t, a.list.Add(a.clock, "pasta", 4))
	must(t, a.list.Buy(a.clock, "sauce", 1))
	must(t, a.list.Remove(a.clock, "pasta"))
	if string(b.list.Encode()) != bBefore {
		t.Fatal("editing the merge result changed the merged-in list")
	}
	j, err := Join(a.list, b.list)
	must(t, err)
	aBefore := string(a.list.Encode())
	must(t, j.Add(a.clock, "sauce", 1))
	if string(a.list.Encode()) != aBefore || string(b.list.Encode()) != bBefore {
		t.Fatal("editing a Join result changed an input")
	}
}

func TestMergeRefusesAnotherList(t *testing.T) {
	c := NewClockWith(replicaID(1), newFakeTime(0).now)
	a, err := New(c, "a")
	must(t, err)
	b, err := New(c, "b")
	must(t, err)
	if err := a.Merge(b); !errors.Is(err, ErrIDMismatch) {
		t.Fatalf("got %v, want ErrIDMismatch", err)
	}
	if a.ID().Version() != 4 {
		t.Fatalf("list ID %s is not a version 4 UUID", a.ID())
	}
}

func TestItemsAreOrderedByKeyAndHideTombstones(t *testing.T) {
	rs := shared(t, 1, "b", "C", "a", "d")
	r := rs[0]
	must(t, r.list.Remove(r.clock, "d"))
	var keys []string
	for _, v := range r.list.Items() {
		keys = append(keys, v.Key)
	}
	if got := strings.Join(keys, ","); got != "a,b,c" {
		t.Fatalf("items %s, want a,b,c", got)
	}
}

// TestTheItemLimitCountsPresentItemsOnly: an edit that would leave more
// than MaxItems present items is refused, and removed items do not count,
// so a list whose every item was removed still takes adds; it keeps only
// the newest MaxTombstones removes.
func TestTheItemLimitCountsPresentItemsOnly(t *testing.T) {
	r := newReplica(1, 0)
	for i := range MaxItems {
		must(t, r.list.Add(r.clock, fmt.Sprintf("item %d", i), 1))
	}
	if err := r.list.Add(r.clock, "one more", 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("adding item %d: %v, want ErrTooLarge", MaxItems+1, err)
	}
	must(t, r.list.Add(r.clock, "item 7", 1)) // more of a present item is fine
	for i := range MaxItems {
		must(t, r.list.Remove(r.clock, fmt.Sprintf("item %d", i)))
	}
	for i := range 10 {
		must(t, r.list.Add(r.clock, fmt.Sprintf("new %d", i), 1))
	}
	if r.list.Present() != 10 || r.list.Tombstones() != MaxTombstones {
		t.Fatalf("%d present and %d removed kept, want 10 and %d", r.list.Present(), r.list.Tombstones(), MaxTombstones)
	}
	for i := range MaxItems - MaxTombstones { // the oldest removes went first
		if _, kept := r.list.items[Normalize(fmt.Sprintf("item %d", i))]; kept {
			t.Fatalf("item %d, among the oldest removed, is still kept", i)
		}
	}
	if _, err := Decode(r.list.Encode()); err != nil {
		t.Fatalf("a list with %d removed items does not decode: %v", MaxItems, err)
	}
}
func TestNamesUsedKeepsRemovedItemsDisplayNames(t *testing.T) {
	c := NewClock(replicaID(1))
	l, err := New(c, "L")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Oat Milk", "bread"} {
		if err := l.Add(c, n, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Remove(c, "oat milk"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.NamesUsed(), ","); got != "bread,Oat Milk" {
		t.Fatalf("NamesUsed %q, want bread,Oat Milk (key order, removed kept, as displayed)", got)
	}
}

func TestContributionsAreEachReplicasOwnPart(t *testing.T) {
	a, b := newReplica(1, 0), newReplica(2, 0)
	must(t, a.list.Add(a.clock, "milk", 2))
	must(t, b.list.Merge(a.list))
	must(t, b.list.Add(b.clock, "milk", 3))
	must(t, b.list.Buy(b.clock, "milk", 1))
	got := b.list.Contributions("Milk")
	want := []Contribution{{Replica: a.clock.Replica(), Wanted: 2}, {Replica: b.clock.Replica(), Wanted: 3, Bought: 1}}
	if !slices.Equal(got, want) && !slices.Equal(got, []Contribution{want[1], want[0]}) {
		t.Fatalf("contributions %+v, want %+v", got, want)
	}
	if b.list.Contributions("eggs") != nil {
		t.Fatal("contributions of an item that is not there")
	}
}

func TestWantedCannotBeSetBelowWhatIsBought(t *testing.T) {
	r := newReplica(1, 0)
	must(t, r.list.Add(r.clock, "milk", 3))
	must(t, r.list.Buy(r.clock, "milk", 2))
	before := r.list.Encode()
	if err := r.list.SetWanted(r.clock, "milk", 1); !errors.Is(err, ErrInvalidQuantity) || !strings.Contains(err.Error(), "2 of \"milk\" already bought") {
		t.Fatalf("setting wanted 1 with 2 bought: %v", err)
	}
	if !bytes.Equal(before, r.list.Encode()) {
		t.Fatal("a refused set changed the list")
	}
	must(t, r.list.SetWanted(r.clock, "milk", 2))
	if v := mustItem(t, r.list, "milk"); v.Wanted != 2 || v.Bought != 2 {
		t.Fatalf("after setting wanted to what is bought: %+v", v)
	}
}
