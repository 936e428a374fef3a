package replica

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"shoplist/crdt"
)

// recordVersion is the format of a list record; a record of another version
// is refused rather than misread.
const recordVersion = 1

// Limits of a record, checked before anything is allocated for it.
const (
	maxKeyBytes   = 4 * crdt.MaxNameBytes // a normalised name can grow when case-folded
	maxDirtyParts = crdt.MaxEntries + 1   // every item, removed ones included, plus the name
	// maxRecordSize bounds the file read from disk: a full list plus a
	// dirty entry for every part, with framing.
	maxRecordSize = crdt.MaxEncodedSize + maxDirtyParts*(maxKeyBytes+16) + 64
)

// record is one list as kept on disk: its state and its sync bookkeeping.
type record struct {
	list     *crdt.List
	seq      uint64            // number of the latest local edit of this list
	dirty    map[string]uint64 // unpushed parts ("" = the name) → edit number that last touched it
	lastSync int64             // Unix milliseconds of the last successful push or pull; 0 = never
}

// encode writes r as [version, state, seq, [[key, seq]...], lastSync] in
// msgpack, parts in key order, so equal records encode to equal bytes.
func (r *record) encode() ([]byte, error) { return r.encodeWith(r.list.Encode()) }

// encodeWith encodes r with state as the encoding of its list.
func (r *record) encodeWith(state []byte) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	keys := slices.Sorted(maps.Keys(r.dirty))
	err := enc.EncodeArrayLen(5)
	put := func(f func() error) {
		if err == nil {
			err = f()
		}
	}
	put(func() error { return enc.EncodeUint(recordVersion) })
	put(func() error { return enc.EncodeBytes(state) })
	put(func() error { return enc.EncodeUint(r.seq) })
	put(func() error { return enc.EncodeArrayLen(len(keys)) })
	for _, k := range keys {
		put(func() error { return enc.EncodeArrayLen(2) })
		put(func() error { return enc.EncodeString(k) })
		put(func() error { return enc.EncodeUint(r.dirty[k]) })
	}
	put(func() error { return enc.EncodeInt(r.lastSync) })
	if err != nil {
		return nil, fmt.Errorf("replica: encoding record: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeRecord parses a record of the list id. It checks every length
// before allocating, accepts only what encode writes (parts sorted and
// unique, edit numbers at most seq, the state's ID equal to id) and reports
// anything else as ErrCorrupt.
func decodeRecord(id uuid.UUID, data []byte) (*record, error) {
	fail := func(format string, args ...any) (*record, error) {
		return nil, fmt.Errorf("%w: list %s: %s", ErrCorrupt, id, fmt.Sprintf(format, args...))
	}
	if len(data) > maxRecordSize {
		return fail("%d bytes, more than the %d a record can hold", len(data), maxRecordSize)
	}
	// The input is in memory and bounded, and the decoder allocates a
	// declared length only as the bytes arrive, so a hostile length cannot
	// make it allocate more than a small multiple of len(data).
	rd := bytes.NewReader(data)
	dec := msgpack.NewDecoder(rd)
	n, err := dec.DecodeArrayLen()
	if err != nil || n != 5 {
		return fail("not a record (array of %d, %v)", n, err)
	}
	version, err := dec.DecodeUint64()
	if err != nil || version != recordVersion {
		return fail("unsupported record version %d (%v)", version, err)
	}
	state, err := dec.DecodeBytes()
	if err != nil {
		return fail("state: %v", err)
	}
	list, err := crdt.Decode(state)
	if err != nil {
		return fail("state: %v", err)
	}
	if list.ID() != id {
		return fail("holds list %s", list.ID())
	}
	r := &record{list: list, dirty: map[string]uint64{}}
	if r.seq, err = dec.DecodeUint64(); err != nil {
		return fail("edit number: %v", err)
	}
	parts, err := dec.DecodeArrayLen()
	if err != nil || parts < 0 || parts > maxDirtyParts {
		return fail("unpushed parts: count %d (%v)", parts, err)
	}
	prev := ""
	for i := range parts {
		if n, err := dec.DecodeArrayLen(); err != nil || n != 2 {
			return fail("unpushed part %d: not a pair (%v)", i, err)
		}
		key, err := dec.DecodeString()
		if err != nil || len(key) > maxKeyBytes {
			return fail("unpushed part %d: key of %d bytes (%v)", i, len(key), err)
		}
		if i > 0 && key <= prev {
			return fail("unpushed parts out of order at %q", key)
		}
		prev = key
		seq, err := dec.DecodeUint64()
		if err != nil || seq == 0 || seq > r.seq {
			return fail("unpushed part %q: edit number %d of %d (%v)", key, seq, r.seq, err)
		}
		r.dirty[key] = seq
	}
	if r.lastSync, err = dec.DecodeInt64(); err != nil || r.lastSync < 0 {
		return fail("last sync %d (%v)", r.lastSync, err)
	}
	if rd.Len() != 0 {
		return fail("trailing bytes")
	}
	// Only what encode writes is accepted, so a record has one encoding
	// (msgpack would also take wider integer forms and unsorted parts). A
	// list in an earlier format version (a record written by an earlier
	// release) is checked by crdt.Decode, which converts it; the record is
	// rewritten in the current version at its next change.
	if !bytes.Equal(list.Encode(), state) && !earlierFormat(state) {
		return fail("list not in canonical form")
	}
	if again, err := r.encodeWith(state); err != nil || !bytes.Equal(again, data) {
		return fail("not in canonical form")
	}
	return r, nil
}

// earlierFormat reports whether state is a list encoding of a format
// version before crdt.FormatVersion: [version, ...], a fixarray of 5.
func earlierFormat(state []byte) bool {
	return len(state) >= 2 && state[0] == 0x95 && state[1] >= 1 && state[1] < crdt.FormatVersion
}
