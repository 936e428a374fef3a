package replica

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"shoplist/crdt"
)

// TestARecordWrittenWithListFormatVersion1Upgrades: a replica directory
// written by a release whose lists were in format version 1 (the list in
// testdata/groceries-v1.bin, with an unpushed part) opens with every item
// and the unpushed part as they were; the next edit writes the list in the
// current format, and nothing is moved to corrupt/.
func TestARecordWrittenWithListFormatVersion1Upgrades(t *testing.T) {
	v1, err := os.ReadFile("testdata/groceries-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	old, err := crdt.Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := open(t, dir)
	var rec bytes.Buffer
	if err := msgpack.NewEncoder(&rec).Encode([]any{1, v1, 3, []any{[]any{"milk", 3}}, 0}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, listsDir, old.ID().String()), rec.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	e, err := s.Get(old.ID())
	if err != nil {
		t.Fatalf("a record of format version 1: %v", err)
	}
	want := map[string][2]int64{"eggs": {6, 2}, "milk": {3, 1}, "tea": {1, 0}}
	if got := e.List.Items(); len(got) != len(want) || e.List.Name() != "Groceries" {
		t.Fatalf("upgraded list %q: %+v", e.List.Name(), got)
	}
	for _, v := range e.List.Items() {
		if q := want[v.Key]; v.Wanted != q[0] || v.Bought != q[1] {
			t.Errorf("%s: %d wanted, %d bought; want %v", v.Key, v.Wanted, v.Bought, q)
		}
	}
	delta, _, ok, err := s.Unpushed(old.ID())
	if err != nil || !ok || delta.ItemKeys()[0] != "milk" || len(delta.ItemKeys()) != 1 {
		t.Fatalf("unpushed part after the upgrade: %v, %v, %+v", err, ok, delta)
	}

	mustEdit(t, s, old.ID(), add("tea", 1))
	raw, err := os.ReadFile(filepath.Join(dir, listsDir, old.ID().String()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeRecord(old.ID(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if enc := r.list.Encode(); enc[1] != crdt.FormatVersion {
		t.Fatalf("after an edit the list is stored in format %d", enc[1])
	}
	if v, _ := r.list.Lookup("tea"); v.Wanted != 2 {
		t.Fatalf("tea after the edit: %+v", v)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, corruptDir)); len(entries) != 0 {
		t.Fatalf("%d records moved to corrupt/", len(entries))
	}
}
