package crdt

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"
)

// FormatVersion is the version of the list encoding written by Encode.
const FormatVersion = 1

// The encoding is msgpack, canonical (items sorted by key, slots by replica,
// integers in their shortest form), so equal states encode to equal bytes:
//
//	list = [version, id bin16, name str, nameAt ts, [item...]]
//	item = [key str, display str, displayAt ts, added ts, removed ts, [slot...]]
//	slot = [stamp ts, wantAdd uint, wantRm uint, buyAdd uint, buyRm uint]
//	ts   = bin28: wall ms (8, big-endian), logical (4), replica (16)
const (
	listFields = 5
	itemFields = 6
	slotFields = 5
)

// Encode returns the canonical encoding of l.
func (l *List) Encode() []byte {
	var buf bytes.Buffer
	buf.Grow(64 + 96*len(l.items))
	e := msgpack.NewEncoder(&buf)
	ts := make([]byte, 0, timestampSize)
	// Writes to a bytes.Buffer cannot fail, so the encoder's errors are nil.
	_ = e.EncodeArrayLen(listFields)
	_ = e.EncodeUint(FormatVersion)
	_ = e.EncodeBytes(l.id[:])
	_ = e.EncodeString(l.name.value)
	_ = e.EncodeBytes(l.name.at.appendBinary(ts[:0]))
	_ = e.EncodeArrayLen(len(l.items))
	for _, k := range slices.Sorted(maps.Keys(l.items)) {
		it := l.items[k]
		_ = e.EncodeArrayLen(itemFields)
		_ = e.EncodeString(it.key)
		_ = e.EncodeString(it.display)
		_ = e.EncodeBytes(it.displayAt.appendBinary(ts[:0]))
		_ = e.EncodeBytes(it.added.appendBinary(ts[:0]))
		_ = e.EncodeBytes(it.removed.appendBinary(ts[:0]))
		_ = e.EncodeArrayLen(len(it.slots))
		for _, s := range it.slots {
			_ = e.EncodeArrayLen(slotFields)
			_ = e.EncodeBytes(s.stamp.appendBinary(ts[:0]))
			_ = e.EncodeUint(s.wantAdd)
			_ = e.EncodeUint(s.wantRm)
			_ = e.EncodeUint(s.buyAdd)
			_ = e.EncodeUint(s.buyRm)
		}
	}
	return buf.Bytes()
}

// Decode parses an encoded list. It accepts only canonical, valid states
// within the package limits and reports anything else as ErrMalformed or
// ErrTooLarge; it never panics and allocates at most a small multiple of
// len(data).
func Decode(data []byte) (*List, error) {
	if len(data) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d accepted", ErrTooLarge, len(data), MaxEncodedSize)
	}
	r := bytes.NewReader(data)
	d := decoder{dec: msgpack.NewDecoder(r)}
	l := d.list()
	if d.err == nil && r.Len() != 0 {
		d.fail("%d trailing bytes", r.Len())
	}
	if d.err != nil {
		return nil, d.err
	}
	l.max = l.computeMax()
	return l, nil
}

// decoder keeps the first error, so the grammar reads straight through.
type decoder struct {
	dec *msgpack.Decoder
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) arrayLen(what string, min, max int) int {
	if d.err != nil {
		return 0
	}
	n, err := d.dec.DecodeArrayLen()
	switch {
	case err != nil:
		d.fail("%s: %v", what, err)
	case n < min || n > max:
		if n > max && max >= MaxItems {
			d.err = fmt.Errorf("%w: %s has %d entries, at most %d allowed", ErrTooLarge, what, n, max)
		} else {
			d.fail("%s has %d entries, want %d to %d", what, n, min, max)
		}
		return 0
	}
	return n
}

func (d *decoder) str(what string, maxLen int) string {
	if d.err != nil {
		return ""
	}
	s, err := d.dec.DecodeString()
	switch {
	case err != nil:
		d.fail("%s: %v", what, err)
	case len(s) > maxLen:
		d.fail("%s is %d bytes, at most %d allowed", what, len(s), maxLen)
	case !utf8.ValidString(s):
		d.fail("%s is not valid UTF-8", what)
	case hasControl(s):
		d.fail("%s contains a control character", what)
	default:
		return s
	}
	return ""
}

// bin reads a bin (or str) of exactly size bytes. It checks the claimed
// length before reading: msgpack's DecodeBytes allocates whatever length the
// input claims, so a five-byte header could ask for gigabytes.
func (d *decoder) bin(what string, size int) []byte {
	if d.err != nil {
		return nil
	}
	n, err := d.dec.DecodeBytesLen()
	switch {
	case err != nil:
		d.fail("%s: %v", what, err)
	case n != size:
		d.fail("%s is %d bytes, want %d", what, n, size)
	default:
		b := make([]byte, size)
		if err := d.dec.ReadFull(b); err != nil {
			d.fail("%s: %v", what, err)
			return nil
		}
		return b
	}
	return nil
}

func (d *decoder) stamp(what string) Timestamp {
	b := d.bin(what, timestampSize)
	if d.err != nil {
		return Timestamp{}
	}
	t, ok := timestampFromBinary(b)
	if !ok {
		d.fail("%s is out of range (wall %d ms, logical %d): a stamp's wall time is 0 to the end of the year 9999 (%d ms) and its logical counter at most %d",
			what, t.Wall, t.Logical, int64(MaxWall), uint32(MaxLogical))
	}
	return t
}

func (d *decoder) counter(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, err := d.dec.DecodeUint64()
	switch {
	case err != nil:
		d.fail("%s: %v", what, err)
	case v > MaxCounter:
		d.fail("%s is %d, at most %d allowed", what, v, uint64(MaxCounter))
	}
	return v
}

func (d *decoder) list() *List {
	d.arrayLen("list", listFields, listFields)
	if d.err != nil {
		return nil
	}
	if v, err := d.dec.DecodeUint64(); err != nil || v != FormatVersion {
		d.fail("unsupported format version (%v, %v); this replica reads version %d", v, err, FormatVersion)
		return nil
	}
	idb := d.bin("list ID", 16)
	if d.err != nil {
		return nil
	}
	id := uuid.UUID(idb)
	if id.Version() != 4 || id.Variant() != uuid.RFC4122 {
		d.fail("list ID %s is not a version 4 UUID", id)
		return nil
	}
	l := Empty(id)
	l.name.value = d.str("list name", MaxNameBytes)
	l.name.at = d.stamp("list name stamp")
	if d.err == nil && l.name.at.IsZero() != (l.name.value == "") {
		d.fail("list name %q and its stamp disagree", l.name.value)
	}
	n := d.arrayLen("items", 0, MaxItems)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		it := d.item()
		if d.err != nil {
			break
		}
		if i > 0 && it.key <= prev {
			d.fail("item %q out of order or repeated", it.key)
			break
		}
		prev = it.key
		l.items[it.key] = it
	}
	return l
}

func (d *decoder) item() *item {
	d.arrayLen("item", itemFields, itemFields)
	it := &item{
		key:       d.str("item key", 3*MaxNameBytes),
		display:   d.str("item name", MaxNameBytes),
		displayAt: d.stamp("item name stamp"),
		added:     d.stamp("item add stamp"),
		removed:   d.stamp("item remove stamp"),
	}
	if d.err != nil {
		return nil
	}
	switch {
	case it.key == "" || it.display == "":
		d.fail("item with an empty key or name")
	case it.added.IsZero() || it.displayAt.IsZero():
		d.fail("item %q was never added", it.key)
	}
	n := d.arrayLen("slots", 0, MaxReplicas)
	for i := 0; i < n && d.err == nil; i++ {
		d.arrayLen("slot", slotFields, slotFields)
		s := slot{
			stamp:   d.stamp("slot stamp"),
			wantAdd: d.counter("wanted+"), wantRm: d.counter("wanted-"),
			buyAdd: d.counter("bought+"), buyRm: d.counter("bought-"),
		}
		switch {
		case d.err != nil:
		case s.stamp.IsZero():
			d.fail("item %q: slot without a stamp", it.key)
		case i > 0 && bytes.Compare(s.stamp.Replica[:], it.slots[i-1].stamp.Replica[:]) <= 0:
			d.fail("item %q: slots out of order or repeated", it.key)
		case s.stamp.After(it.added):
			d.fail("item %q: slot newer than the item's last edit", it.key)
		case s.stamp.Compare(it.removed) < 0:
			d.fail("item %q: slot from before its removal", it.key)
		default:
			it.slots = append(it.slots, s)
		}
	}
	return it
}
