package crdt

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// TestMergeIsAJoinAtTheLimits: replicas that each stayed within the edit
// limits merge, in any order, into one state past those limits (merge
// never refuses), which still decodes; only new edits past a limit are
// refused. A state past Decode's caps is refused whole.
func TestMergeIsAJoinAtTheLimits(t *testing.T) {
	a, b, c := newReplica(1, 0), newReplica(2, 0), newReplica(3, 0)
	for i := range MaxItems - 1 { // and "shared" below: MaxItems each
		must(t, a.list.Add(a.clock, fmt.Sprintf("a %d", i), 1))
		must(t, b.list.Add(b.clock, fmt.Sprintf("b %d", i), 1))
	}
	// One item edited by MaxReplicas replicas on each side.
	for i := range MaxReplicas {
		ra := NewClockWith(uuid.UUID{0: 0xa, 14: byte(i >> 8), 15: byte(i)}, a.time.now)
		rb := NewClockWith(uuid.UUID{0: 0xb, 14: byte(i >> 8), 15: byte(i)}, b.time.now)
		must(t, a.list.Add(ra, "shared", 1))
		must(t, b.list.Add(rb, "shared", 1))
	}
	must(t, c.list.Add(c.clock, "c", 1))
	if err := a.list.Add(NewClock(uuid.New()), "shared", 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("replica %d editing one item: %v, want ErrTooLarge", MaxReplicas+1, err)
	}

	ab := join(t, a.list, b.list)
	ba := join(t, b.list, a.list)
	sameBytes(t, "a⊔b = b⊔a past the limits", ab, ba)
	sameBytes(t, "(a⊔b)⊔c = a⊔(b⊔c)", join(t, ab, c.list), join(t, a.list, join(t, b.list, c.list)))
	sameBytes(t, "a⊔b⊔b = a⊔b", join(t, ab, b.list), ab)
	if ab.Present() != 2*MaxItems-1 {
		t.Fatalf("%d present after the merge", ab.Present())
	}
	if v := mustItem(t, ab, "shared"); v.Wanted != 2*MaxReplicas {
		t.Fatalf("shared: %+v, want %d wanted", v, 2*MaxReplicas)
	}
	decoded, err := Decode(ab.Encode())
	if err != nil {
		t.Fatalf("the union of two valid replicas does not decode: %v", err)
	}
	sameBytes(t, "decoded union", decoded, ab)
	if err := ab.Add(a.clock, "one more", 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a new item past MaxItems present: %v, want ErrTooLarge", err)
	}
	must(t, ab.Add(a.clock, "a 1", 1)) // an item it has still takes edits
	must(t, ab.Remove(a.clock, "a 2")) // and removes
}

func TestDecodeRefusesAStatePastItsCaps(t *testing.T) {
	r := newReplica(1, 0)
	for i := range MaxEntries + 1 {
		r.list.items[fmt.Sprintf("k%06d", i)] = &item{key: fmt.Sprintf("k%06d", i), display: register{"x", r.clock.Now()},
			slots: []slot{{stamp: r.clock.Now(), counts: counts{wantAdd: 1}}}}
	}
	if _, err := Decode(r.list.Encode()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d items: %v, want ErrTooLarge", MaxEntries+1, err)
	}
	delete(r.list.items, "k000000")
	if _, err := Decode(r.list.Encode()); err != nil {
		t.Fatalf("%d items refused: %v", MaxEntries, err)
	}

	l := Empty(listID)
	it := &item{key: "a", display: register{"a", r.clock.Now()}}
	for i := range MaxSlots + 1 {
		it.slots = append(it.slots, slot{stamp: Timestamp{Wall: 5, Replica: uuid.UUID{14: byte(i >> 8), 15: byte(i)}}, counts: counts{wantAdd: 1}})
	}
	l.items["a"] = it
	if _, err := Decode(l.Encode()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("%d slots on one item: %v, want refused", MaxSlots+1, err)
	}
	it.slots = it.slots[:MaxSlots]
	if _, err := Decode(l.Encode()); err != nil {
		t.Fatalf("%d slots refused: %v", MaxSlots, err)
	}
}
