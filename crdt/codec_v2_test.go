package crdt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
)

// v2Item builds an item of format version 2 for enc, from its fields.
func v2Item(key string, removed any, slots, cut []any, set any) []any {
	stamp := Timestamp{Wall: 5, Replica: replicaID(1)}.appendBinary(nil)
	return []any{key, key, stamp, "", nil, "", nil, removed, nil, slots, cut, set}
}

func TestDecodeRejectsStatesTheRulesCannotMake(t *testing.T) {
	ts := func(wall int64, rep byte) []byte {
		return Timestamp{Wall: wall, Replica: replicaID(rep)}.appendBinary(nil)
	}
	id := listID[:]
	slot := func(wall int64, rep byte, wantAdd int) []any { return []any{ts(wall, rep), nil, wantAdd, 0, 0, 0} }
	// snap: a remove's snapshot, taken by the remove at ts(9, 2).
	snap := func(wall int64, rep byte, wantAdd int) []any {
		return []any{ts(wall, rep), nil, ts(9, 2), wantAdd, 0, 0, 0}
	}
	// life: a slot whose life started at base.
	life := func(wall int64, rep byte, base int64, wantAdd int) []any {
		return []any{ts(wall, rep), Timestamp{Wall: base}.appendBinary(nil), wantAdd, 0, 0, 0}
	}
	snapLife := func(wall int64, rep byte, base int64, wantAdd int) []any {
		return []any{ts(wall, rep), Timestamp{Wall: base}.appendBinary(nil), ts(9, 2), wantAdd, 0, 0, 0}
	}
	floored := func(floor any, items ...any) []byte {
		return enc(t, []any{2, id, "", make([]byte, timestampSize), floor, items})
	}
	list := func(items ...any) []byte { return floored(nil, items...) }
	good := v2Item("a", ts(9, 2), []any{slot(5, 1, 3)}, []any{snap(5, 1, 3)}, nil)
	if _, err := Decode(list(good)); err != nil {
		t.Fatalf("control case refused: %v", err)
	}
	if _, err := Decode(floored(Timestamp{Wall: 8}.appendBinary(nil), good)); err != nil {
		t.Fatalf("a tombstone after the floor refused: %v", err)
	}
	cases := map[string][]byte{
		"never edited":                       list(v2Item("a", nil, []any{}, []any{}, nil)),
		"cut without a remove":               list(v2Item("a", nil, []any{slot(5, 1, 3)}, []any{snap(5, 1, 3)}, nil)),
		"cut newer than the slot":            list(v2Item("a", ts(9, 2), []any{slot(5, 1, 3)}, []any{snap(6, 1, 3)}, nil)),
		"cut above the totals":               list(v2Item("a", ts(9, 2), []any{slot(5, 1, 3)}, []any{snap(5, 1, 4)}, nil)),
		"cut of an unknown replica":          list(v2Item("a", ts(9, 2), []any{slot(5, 1, 3)}, []any{snap(5, 3, 1)}, nil)),
		"snapshot after its remove":          list(v2Item("a", ts(9, 2), []any{slot(10, 1, 3)}, []any{snap(10, 1, 3)}, nil)),
		"snapshot's remove after the item's": list(v2Item("a", ts(8, 2), []any{slot(5, 1, 3)}, []any{snap(5, 1, 3)}, nil)),
		"cut slot without its remove":        list(v2Item("a", ts(9, 2), []any{slot(5, 1, 3)}, []any{slot(5, 1, 3)}, nil)),
		"zero stamp written out":             list(v2Item("a", make([]byte, timestampSize), []any{slot(5, 1, 3)}, []any{}, nil)),
		"set not seeing its setter":          list(v2Item("a", nil, []any{slot(5, 1, 3), slot(6, 2, 0)}, []any{}, []any{ts(6, 2), 4, []any{slot(5, 1, 3)}})),
		"set above the totals":               list(v2Item("a", nil, []any{slot(5, 1, 3)}, []any{}, []any{ts(5, 1), 4, []any{slot(5, 1, 9)}})),
		"set of zero":                        list(v2Item("a", nil, []any{slot(5, 1, 3)}, []any{}, []any{ts(5, 1), 0, []any{slot(5, 1, 3)}})),
		"category without a stamp":           list([]any{"a", "a", ts(5, 1), "dairy", nil, "", nil, nil, nil, []any{slot(5, 1, 1)}, []any{}, nil}),
		"life starting after its slot":       list(v2Item("a", nil, []any{life(5, 1, 6, 1)}, []any{}, nil)),
		"snapshot of a later life":           list(v2Item("a", ts(9, 2), []any{life(6, 1, 2, 3)}, []any{snapLife(5, 1, 3, 3)}, nil)),
		"same life above the totals":         list(v2Item("a", ts(9, 2), []any{life(6, 1, 2, 3)}, []any{snapLife(5, 1, 2, 4)}, nil)),
		// What the list forgets, kept (compact.go):
		"tombstone at the floor":                 floored(Timestamp{Wall: 10}.appendBinary(nil), good),
		"snapshot of an earlier life":            list(v2Item("a", ts(9, 2), []any{life(12, 1, 10, 1)}, []any{snap(5, 1, 3)}, nil)),
		"remove without a cut, before the floor": floored(ts(10, 0), v2Item("a", ts(9, 2), []any{slot(12, 1, 3)}, []any{}, nil)),
		"text a remove cleared, before the floor": floored(ts(10, 0), []any{"a", "a", ts(12, 2), "dairy", ts(6, 3), "", nil, ts(11, 2), nil,
			[]any{slot(5, 1, 3), slot(12, 2, 1)}, []any{[]any{ts(5, 1), nil, ts(11, 2), 3, 0, 0, 0}}, nil}),
		"list of five fields": enc(t, []any{2, id, "", make([]byte, timestampSize), []any{good}}),
	}
	for name, data := range cases {
		if l, err := Decode(data); !errors.Is(err, ErrMalformed) || l != nil {
			t.Errorf("%s: got (%v, %v), want ErrMalformed", name, l != nil, err)
		}
	}
}

// TestVersion1DecodesToTheSameList: the golden list as version 1 wrote it
// decodes to the same items, names and quantities, and re-encodes as
// version 2.
func TestVersion1DecodesToTheSameList(t *testing.T) {
	raw, _ := hex.DecodeString(goldenListV1Hex)
	old, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := goldenList(t)
	if old.Name() != want.Name() || !slices.Equal(old.Items(), want.Items()) || old.Len() != want.Len() {
		t.Fatalf("version 1 decoded to %q %+v (%d in state), want %q %+v (%d)", old.Name(), old.Items(), old.Len(), want.Name(), want.Items(), want.Len())
	}
	again, err := Decode(old.Encode())
	if err != nil || !slices.Equal(again.Items(), old.Items()) {
		t.Fatalf("re-encoded as version 2: %v, %+v", err, again)
	}
}

// TestAVersion1ReplicaUpgradesWithoutLosingAnything reads a replica's list
// written by version 1 (testdata/v1/groceries.bin: a renamed list, items
// edited by two replicas, a removed item, an item removed and added again)
// and checks every item survives as it was, and that an old copy of the
// removed item from before its removal cannot bring it back.
func TestAVersion1ReplicaUpgradesWithoutLosingAnything(t *testing.T) {
	raw, err := os.ReadFile("testdata/v1/groceries.bin")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(raw)
	if err != nil {
		t.Fatalf("version 1 fixture: %v", err)
	}
	want := map[string][2]int64{"eggs": {6, 2}, "milk": {3, 1}, "tea": {1, 0}}
	if l.Name() != "Groceries" || len(l.Items()) != len(want) || l.Len() != 4 {
		t.Fatalf("got %q with %+v (%d in state)", l.Name(), l.Items(), l.Len())
	}
	for _, v := range l.Items() {
		if q := want[v.Key]; v.Wanted != q[0] || v.Bought != q[1] {
			t.Errorf("%s: %d wanted, %d bought; want %v", v.Key, v.Wanted, v.Bought, q)
		}
	}
	// A version 1 replica's copy of bread from before it was removed,
	// converted too, merges without bringing bread back.
	r := newReplica(1, 0)
	must(t, r.list.Rename(r.clock, "x"))
	stale := Empty(l.ID())
	must(t, stale.Add(r.clock, "bread", 1))
	stale.items["bread"].slots[0].stamp.Wall = 1 // before the version 1 remove
	must(t, l.Merge(stale))
	if _, ok := l.Lookup("bread"); ok {
		t.Fatal("an old copy brought back an item version 1 had removed")
	}
	// Edits after the upgrade follow this version's rules.
	c := newReplica(3, 0)
	must(t, l.Add(c.clock, "bread", 2))
	if v := mustItem(t, l, "bread"); v.Wanted != 2 {
		t.Fatalf("bread added again after the upgrade: %+v", v)
	}
}

// TestAListWrittenBeforeFloorsDecodesToTheSameList: a list as version 2
// wrote it before lists had a floor (made with that release: two
// replicas, a set, a buy, a category and a note, removes and a re-add)
// reads to what that release showed, and re-encodes in the current form.
func TestAListWrittenBeforeFloorsDecodesToTheSameList(t *testing.T) {
	raw, err := os.ReadFile("testdata/v2early/weekend.bin")
	must(t, err)
	l, err := Decode(raw)
	if err != nil {
		t.Fatalf("the early version 2 list does not decode: %v", err)
	}
	var got []string
	for _, v := range l.Items() {
		got = append(got, fmt.Sprintf("%s %d %d %q %q", v.Name, v.Wanted, v.Bought, v.Category, v.Note))
	}
	want := []string{`Eggs 6 0 "dairy" "free range"`, `Milk 5 1 "" ""`, `tea 1 0 "" ""`}
	if !slices.Equal(got, want) || l.Name() != "Weekend" || l.Tombstones() != 1 {
		t.Fatalf("decoded %q (name %q, %d removed), want %q, Weekend and bread removed", got, l.Name(), l.Tombstones(), want)
	}
	again, err := Decode(l.Encode())
	if err != nil {
		t.Fatalf("re-encoded: %v", err)
	}
	sameBytes(t, "re-encoded", again, l)
}
