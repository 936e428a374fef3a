package crdt

import (
	"errors"
	"testing"
	"time"
)

func TestDeleteHidesTheListAndRefusesEdits(t *testing.T) {
	a := newReplica(1, 0)
	must(t, a.clock.SetAuthor("Alice"))
	must(t, a.list.Rename(a.clock, "Weekend"))
	must(t, a.list.Add(a.clock, "milk", 2))
	must(t, a.list.Delete(a.clock))

	d := a.list.Deletion()
	if !a.list.Deleted() || !d.Deleted || d.By != "Alice" || d.At.IsZero() {
		t.Fatalf("after delete: %+v", d)
	}
	for what, err := range map[string]error{
		"add":      a.list.Add(a.clock, "bread", 1),
		"buy":      a.list.Buy(a.clock, "milk", 1),
		"remove":   a.list.Remove(a.clock, "milk"),
		"rename":   a.list.Rename(a.clock, "Other"),
		"note":     a.list.SetNote(a.clock, "milk", "x"),
		"category": a.list.SetCategory(a.clock, "milk", "x"),
		"set":      a.list.SetWanted(a.clock, "milk", 3),
		"again":    a.list.Delete(a.clock),
	} {
		if !errors.Is(err, ErrDeleted) {
			t.Errorf("%s on a deleted list: %v, want ErrDeleted", what, err)
		}
	}
	// What it held can still be read, for an export.
	if v := mustItem(t, a.list, "milk"); v.Wanted != 2 {
		t.Fatalf("milk after the delete: %+v", v)
	}
	must(t, a.list.Restore(a.clock))
	if a.list.Deleted() {
		t.Fatal("restored list still deleted")
	}
	if err := a.list.Restore(a.clock); !errors.Is(err, ErrNotDeleted) {
		t.Fatalf("restoring a list that is not deleted: %v", err)
	}
	must(t, a.list.Add(a.clock, "bread", 1))
}

// A delete and edits made concurrently with it (by a replica that had not
// seen it) merge into a deleted list that still holds those edits; a later
// restore brings them all back.
func TestDeleteKeepsConcurrentEditsAndRestoreWinsOnlyWhenLater(t *testing.T) {
	a, b := newReplica(1, 0), newReplica(2, 0)
	must(t, a.clock.SetAuthor("Alice"))
	must(t, a.list.Rename(a.clock, "Shop"))
	must(t, a.list.Add(a.clock, "milk", 1))
	b.receive(t, a.list)

	must(t, a.list.Delete(a.clock))
	b.time.advance(time.Second)
	must(t, b.list.Add(b.clock, "eggs", 6)) // later by the clock, but not a restore
	must(t, b.list.Buy(b.clock, "milk", 1))

	ab, ba := join(t, a.list, b.list), join(t, b.list, a.list)
	sameBytes(t, "delete ⊔ edits", ab, ba)
	if !ab.Deleted() || ab.Deletion().By != "Alice" {
		t.Fatalf("merged: %+v, want deleted by Alice", ab.Deletion())
	}
	if v := mustItem(t, ab, "eggs"); v.Wanted != 6 {
		t.Fatalf("concurrent add lost: %+v", v)
	}
	if v := mustItem(t, ab, "milk"); !v.Acquired {
		t.Fatalf("concurrent buy lost: %+v", v)
	}

	// A restore made before the delete was seen loses to it; one made after
	// it wins.
	early := newReplica(3, -time.Hour) // has not seen the delete
	must(t, early.list.Delete(early.clock))
	must(t, early.list.Restore(early.clock))
	if m := join(t, ab, early.list); !m.Deleted() {
		t.Fatal("an earlier restore undid a later delete")
	}
	b.receive(t, ab)
	must(t, b.clock.SetAuthor("Bob"))
	must(t, b.list.Restore(b.clock))
	m := join(t, ab, b.list)
	if m.Deleted() || m.Deletion().By != "Bob" || m.Present() != 2 {
		t.Fatalf("after a later restore: %+v, %d present", m.Deletion(), m.Present())
	}
}

func TestDeletionTravelsInTheHeaderPartAndInDeltas(t *testing.T) {
	a := newReplica(1, 0)
	must(t, a.list.Rename(a.clock, "Shop"))
	must(t, a.list.Add(a.clock, "milk", 1))
	since := a.list.MaxStamp()
	must(t, a.list.Delete(a.clock))

	head := a.list.Split()[0]
	if !head.Deleted() || head.HeadEmpty() || head.MaxStamp() != a.list.MaxStamp() {
		t.Fatalf("name part: deleted %v, empty %v, max %+v", head.Deleted(), head.HeadEmpty(), head.MaxStamp())
	}
	d := a.list.Delta(since)
	if !d.Deleted() || d.Len() != 0 || d.Name() != "" {
		t.Fatalf("delta since before the delete: deleted %v, %d items, name %q", d.Deleted(), d.Len(), d.Name())
	}
	back, err := Decode(a.list.Encode())
	must(t, err)
	sameBytes(t, "round trip", back, a.list)
	if back.Deletion() != a.list.Deletion() {
		t.Fatalf("decoded %+v, want %+v", back.Deletion(), a.list.Deletion())
	}
	if Empty(listID).HeadEmpty() != true {
		t.Fatal("the empty list's head is not empty")
	}
}

// Two deletion registers with one stamp exist only in forged states; the
// merge still picks one, whichever comes first.
func TestDeletionTieIsAJoin(t *testing.T) {
	at := Timestamp{Wall: 5, Replica: replicaID(1)}
	regs := []deletion{{at: at}, {at: at, deleted: true}, {at: at, deleted: true, by: "B"}, {at: at, by: "Z"}}
	for _, x := range regs {
		for _, y := range regs {
			a, b := x, y
			a.merge(y)
			b.merge(x)
			if a != b {
				t.Fatalf("%+v ⊔ %+v = %+v but %+v ⊔ %+v = %+v", x, y, a, y, x, b)
			}
		}
	}
}

// The random histories of prop_test.go delete and restore; this checks
// that they do, so the join and convergence properties cover the deletion
// register and the author register.
func TestRandomHistoriesDeleteRestoreAndSign(t *testing.T) {
	var deleted, restored, signed, anonymous int
	for seed := uint64(1); seed <= 60; seed++ {
		s := newSim(t, seed)
		s.run(200)
		l := s.replicas[0].list
		switch d := l.Deletion(); {
		case d.Deleted:
			deleted++
		case !d.At.IsZero():
			restored++
		}
		for _, it := range l.items {
			switch {
			case it.author.value != "":
				signed++
			case !it.author.at.IsZero():
				anonymous++
			}
		}
	}
	if deleted == 0 || restored == 0 || signed == 0 || anonymous == 0 {
		t.Fatalf("histories end deleted %d, restored %d, with %d signed and %d anonymous authors: each must happen",
			deleted, restored, signed, anonymous)
	}
}
