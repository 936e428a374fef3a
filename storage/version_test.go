package storage

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"shoplist/crdt"
)

// v1Part returns the encoding, in the list's format version 1, of the part
// of list id holding one item with qty wanted, added at wall by replica.
func v1Part(t *testing.T, id uuid.UUID, item string, qty int, wall int64, replica uuid.UUID) []byte {
	t.Helper()
	raw := binary.BigEndian.AppendUint64(nil, uint64(wall)) // a stamp: wall, logical, replica
	raw = binary.BigEndian.AppendUint32(raw, 0)
	raw = append(raw, replica[:]...)
	zero := make([]byte, 28)
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := e.Encode([]any{1, id[:], "", zero, []any{[]any{item, item, raw, raw, zero, []any{[]any{raw, qty, 0, 0, 0}}}}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPartsOfFormatVersion1AreReadAndConverted: a store written by a
// release that used the list's format version 1 serves its lists, in the
// current version, by the fast path's fallback; a write stores the parts it
// touches in the current version, and the fast path then takes the list.
func TestPartsOfFormatVersion1AreReadAndConverted(t *testing.T) {
	s := openTemp(t)
	id := uuid.New()
	k := keyOf(id)
	rep := uuid.New()
	rawSet(t, s, k.itemKey("milk"), appendValue(nil, v1Part(t, id, "milk", 2, 1_700_000_000_000, rep)))
	rawSet(t, s, k.itemKey("tea"), appendValue(nil, v1Part(t, id, "tea", 1, 1_700_000_000_001, rep)))

	l, err := s.Load(id)
	if err != nil {
		t.Fatalf("Load of version 1 parts: %v", err)
	}
	if v, ok := l.Lookup("milk"); !ok || v.Wanted != 2 {
		t.Fatalf("milk after conversion: %+v", l.Items())
	}
	enc, err := s.LoadEncoded(id)
	if err != nil || !bytes.Equal(enc, l.Encode()) {
		t.Fatalf("LoadEncoded of version 1 parts: %v; equal to Load's encoding: %v", err, bytes.Equal(enc, l.Encode()))
	}
	if _, _, err := s.assemble(k); err != errNotAssembled {
		t.Fatalf("the fast path took version 1 parts: %v", err)
	}

	c := crdt.NewClock(uuid.New())
	edited := l.Clone()
	if err := edited.Add(c, "milk", 1); err != nil {
		t.Fatal(err)
	}
	if err := edited.Add(c, "tea", 1); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, edited.Delta(l.MaxStamp()))
	got, _, err := s.assemble(k)
	if err != nil {
		t.Fatalf("the fast path after both parts were rewritten: %v", err)
	}
	back, err := crdt.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := back.Lookup("milk"); v.Wanted != 3 {
		t.Fatalf("milk after the write: %+v", back.Items())
	}
}
