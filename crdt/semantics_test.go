package crdt

import (
	"testing"
	"time"
)

// The concurrent cases of the list's rules, one test per row of the table
// in docs/ARCHITECTURE.md ("What concurrent edits end as"). In each, two
// replicas start from one synced state, edit without seeing each other,
// and sync; both must end in the state the row names, byte for byte.

// concurrently runs the two edits on a and b of a fresh shared list holding
// items (quantity 1 each) after setup, and syncs them.
func concurrently(t *testing.T, setup, onA, onB func(r *replica) error, items ...string) (a, b *replica) {
	t.Helper()
	rs := shared(t, 2, items...)
	a, b = rs[0], rs[1]
	if setup != nil {
		must(t, setup(a))
		syncAll(t, a, b)
	}
	a.time.advance(time.Second)
	must(t, onA(a))
	b.time.advance(2 * time.Second) // b's edit is the later by the clock
	must(t, onB(b))
	syncAll(t, a, b)
	sameBytes(t, "converged", a.list, b.list)
	return a, b
}

func TestAddAndAddOfOneItemSumUp(t *testing.T) {
	a, _ := concurrently(t, nil,
		func(r *replica) error { return r.list.Add(r.clock, "milk", 1) },
		func(r *replica) error { return r.list.Add(r.clock, "Milk", 2) }, "milk")
	if v := mustItem(t, a.list, "milk"); v.Wanted != 4 {
		t.Fatalf("got %+v, want 1 + 1 + 2 = 4 wanted", v)
	}
}

// The eggs case: Bob adds 3 offline; Alice, later by the clock, removes the
// eggs she saw. Bob's add survives with only its own part.
func TestAddSurvivesARemoveThatDidNotSeeIt(t *testing.T) {
	for _, removeLater := range []bool{true, false} {
		add := func(r *replica) error { return r.list.Add(r.clock, "eggs", 3) }
		rm := func(r *replica) error { return r.list.Remove(r.clock, "eggs") }
		onA, onB := add, rm
		if !removeLater {
			onA, onB = rm, add
		}
		setup := func(r *replica) error { return r.list.Add(r.clock, "eggs", 1) } // eggs 2, seen by both
		a, _ := concurrently(t, setup, onA, onB, "eggs")
		v := mustItem(t, a.list, "eggs")
		if v.Wanted != 3 || v.Bought != 0 {
			t.Fatalf("remove later=%v: got %+v, want eggs × 3 (the add's part only)", removeLater, v)
		}
	}
}

// A remove cancels what it saw of every replica, including the remover's
// own earlier edits and the other's: a replica that edits again without
// having seen the remove brings back only its new edit, never its old count.
func TestARemoveCancelsTheOldCountOfAReplicaThatEditsAgain(t *testing.T) {
	rs := shared(t, 2, "jam")
	a, b := rs[0], rs[1]
	must(t, b.list.Add(b.clock, "jam", 4)) // b's own count: 4
	syncAll(t, a, b)
	a.time.advance(time.Second)
	must(t, a.list.Remove(a.clock, "jam")) // saw jam 5, b's 4 included
	b.time.advance(time.Minute)
	must(t, b.list.Add(b.clock, "jam", 2)) // b has not seen the remove
	syncAll(t, a, b)
	sameBytes(t, "converged", a.list, b.list)
	if v := mustItem(t, a.list, "jam"); v.Wanted != 2 {
		t.Fatalf("got %+v, want 2: b's count from before the remove is gone", v)
	}
}
func TestConcurrentSetsEndAtTheLaterValue(t *testing.T) {
	a, _ := concurrently(t,
		func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 5) },
		func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 1) },
		func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 2) }, "milk")
	if v := mustItem(t, a.list, "milk"); v.Wanted != 2 || v.Acquired {
		t.Fatalf("got %+v, want wanted 2 (the later set), never a sum or zero", v)
	}
}

func TestAnIncrementConcurrentWithASetAppliesOnTopOfIt(t *testing.T) {
	for _, setLater := range []bool{true, false} {
		set := func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 10) }
		inc := func(r *replica) error { return r.list.Add(r.clock, "milk", 1) }
		onA, onB := set, inc
		if !setLater {
			onA, onB = inc, set
		}
		a, _ := concurrently(t, func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 5) }, onA, onB, "milk")
		if v := mustItem(t, a.list, "milk"); v.Wanted != 11 {
			t.Fatalf("set later=%v: got %+v, want 10 + 1", setLater, v)
		}
	}
}

func TestConcurrentIncrementsAfterASetAddUp(t *testing.T) {
	a, _ := concurrently(t,
		func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 3) },
		func(r *replica) error { return r.list.Add(r.clock, "milk", 1) },
		func(r *replica) error { return r.list.Add(r.clock, "milk", 1) }, "milk")
	if v := mustItem(t, a.list, "milk"); v.Wanted != 5 {
		t.Fatalf("got %+v, want 3 + 1 + 1", v)
	}
}

func TestConcurrentBuysPastWantedShowAsOverBought(t *testing.T) {
	a, _ := concurrently(t,
		func(r *replica) error { return r.list.Add(r.clock, "milk", 1) }, // 2 wanted
		func(r *replica) error { return r.list.Buy(r.clock, "milk", 2) },
		func(r *replica) error { return r.list.Buy(r.clock, "milk", 1) }, "milk")
	v := mustItem(t, a.list, "milk")
	if v.Wanted != 2 || v.Bought != 3 || v.Remaining != 0 || !v.Acquired {
		t.Fatalf("got %+v, want 3 bought of 2 wanted, nothing remaining", v)
	}
}

// A buy a remove did not see keeps the item, as bought: nobody loses track
// of what was bought.
func TestABuyConcurrentWithARemoveKeepsTheItemAsBought(t *testing.T) {
	a, _ := concurrently(t,
		func(r *replica) error { return r.list.Add(r.clock, "milk", 1) },
		func(r *replica) error { return r.list.Remove(r.clock, "milk") },
		func(r *replica) error { return r.list.Buy(r.clock, "milk", 1) }, "milk")
	v := mustItem(t, a.list, "milk")
	if v.Wanted != 0 || v.Bought != 1 || !v.Acquired {
		t.Fatalf("got %+v, want 1 bought of 0 wanted", v)
	}
}

// A set a remove did not see keeps the item at the value set.
func TestASetConcurrentWithARemoveKeepsTheItemAtTheValueSet(t *testing.T) {
	a, _ := concurrently(t, nil,
		func(r *replica) error { return r.list.Remove(r.clock, "milk") },
		func(r *replica) error { return r.list.SetWanted(r.clock, "milk", 4) }, "milk")
	if v := mustItem(t, a.list, "milk"); v.Wanted != 4 {
		t.Fatalf("got %+v, want 4 wanted", v)
	}
}

func TestConcurrentRenamesEndAtTheLaterName(t *testing.T) {
	a, _ := concurrently(t, nil,
		func(r *replica) error { return r.list.Rename(r.clock, "Weekend") },
		func(r *replica) error { return r.list.Rename(r.clock, "Saturday") })
	if a.list.Name() != "Saturday" {
		t.Fatalf("name %q, want the later rename", a.list.Name())
	}
}

func TestConcurrentCategoriesAndNotesEndAtTheLaterValue(t *testing.T) {
	a, _ := concurrently(t, nil,
		func(r *replica) error {
			must(t, r.list.SetNote(r.clock, "milk", "the organic one"))
			return r.list.SetCategory(r.clock, "milk", "dairy")
		},
		func(r *replica) error { return r.list.SetCategory(r.clock, "milk", "fridge") }, "milk")
	v := mustItem(t, a.list, "milk")
	if v.Category != "fridge" || v.Note != "the organic one" {
		t.Fatalf("got %+v, want category fridge (later) and the note", v)
	}
}

// A remove clears the texts set before it by the clock, seen or not: the
// item, added again, starts without them; a text set after the remove, even
// concurrently, stays for the next life. Texts never keep an item present.
func TestARemoveClearsTheTextsSetBeforeIt(t *testing.T) {
	for _, removeLater := range []bool{true, false} {
		text := func(r *replica) error { return r.list.SetCategory(r.clock, "milk", "dairy") }
		rm := func(r *replica) error { return r.list.Remove(r.clock, "milk") }
		onA, onB := text, rm
		if !removeLater {
			onA, onB = rm, text
		}
		a, _ := concurrently(t, nil, onA, onB, "milk")
		if _, ok := a.list.Lookup("milk"); ok {
			t.Fatalf("remove later=%v: a category edit kept milk present", removeLater)
		}
		must(t, a.list.Add(a.clock, "milk", 1))
		want := ""
		if !removeLater {
			want = "dairy"
		}
		if v := mustItem(t, a.list, "milk"); v.Category != want {
			t.Fatalf("remove later=%v: milk added again has category %q, want %q", removeLater, v.Category, want)
		}
	}
}
