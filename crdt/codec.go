package crdt

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// FormatVersion is the version of the list encoding written by Encode.
// Decode also reads version 1 (see codec_v1.go) and converts it.
const FormatVersion = 2

// The encoding is msgpack, canonical (items sorted by key, slots by replica,
// integers in their shortest form, an absent stamp as nil), so equal states
// encode to equal bytes:
//
//	list = [version, id bin16, name str, nameAt ts, floor ts?, (deletion,) [item...]]
//	deletion = [at ts, deleted bool, by str]
//	item = [key str, display str, displayAt ts, category str, categoryAt ts?,
//	        note str, noteAt ts?, removed ts?, legacyRemoved ts?,
//	        [slot...], [cut slot...], set (, author)]
//	author = [name str, at ts]
//	set  = nil | [at ts, wanted uint, [observed slot...]]
//	slot = [stamp ts, base ts?, wantAdd uint, wantRm uint, buyAdd uint, buyRm uint]
//	cut slot = [stamp ts, base ts?, by ts, wantAdd uint, wantRm uint, buyAdd uint, buyRm uint]
//	ts   = bin28: wall ms (8, big-endian), logical (4), replica (16)
//	ts?  = ts, or nil for none
//
// The deletion (deletion.go) and the author (author.go) came later, as
// optional fields: a list carries its deletion, and an item its author,
// only once one was set, so the list then has 7 elements and the item 13.
// Lists that never had either encode exactly as they did before, and every
// earlier encoding decodes as it did.
const (
	listFields     = 6  // without a deletion
	itemFields     = 12 // without an author
	deletionFields = 3
	authorFields   = 2
	slotFields     = 6
	snapFields     = 7 // a remove's snapshot: a slot and the remove's stamp
	setFields      = 3
)

// encoder writes the canonical encoding. Writes to a bytes.Buffer cannot
// fail, so the msgpack encoder's errors are nil and are not checked.
type encoder struct {
	e  *msgpack.Encoder
	ts []byte // scratch for stamps
}

func (w *encoder) stamp(t Timestamp) { _ = w.e.EncodeBytes(t.appendBinary(w.ts[:0])) }

func (w *encoder) optStamp(t Timestamp) {
	if t.IsZero() {
		_ = w.e.EncodeNil()
		return
	}
	w.stamp(t)
}

// slots writes slots, or with cut set a remove's snapshots.
func (w *encoder) slots(ss []slot, cut bool) {
	_ = w.e.EncodeArrayLen(len(ss))
	for _, s := range ss {
		if cut {
			_ = w.e.EncodeArrayLen(snapFields)
		} else {
			_ = w.e.EncodeArrayLen(slotFields)
		}
		w.stamp(s.stamp)
		if s.ext == nil {
			_ = w.e.EncodeNil() // no base: the common case
		} else {
			w.optStamp(s.ext.base)
		}
		if cut {
			w.stamp(s.by())
		}
		_ = w.e.EncodeUint(s.wantAdd)
		_ = w.e.EncodeUint(s.wantRm)
		_ = w.e.EncodeUint(s.buyAdd)
		_ = w.e.EncodeUint(s.buyRm)
	}
}

// Encode returns the canonical encoding of l.
func (l *List) Encode() []byte {
	var buf bytes.Buffer
	buf.Grow(64 + 112*len(l.items))
	w := encoder{e: msgpack.NewEncoder(&buf), ts: make([]byte, 0, timestampSize)}
	deleted := !l.deleted.at.IsZero()
	_ = w.e.EncodeArrayLen(listFields + optional(deleted))
	_ = w.e.EncodeUint(FormatVersion)
	_ = w.e.EncodeBytes(l.id[:])
	_ = w.e.EncodeString(l.name.value)
	w.stamp(l.name.at)
	w.optStamp(l.floor)
	if deleted {
		w.deletion(l.deleted)
	}
	_ = w.e.EncodeArrayLen(len(l.items))
	for _, k := range slices.Sorted(maps.Keys(l.items)) {
		it := l.items[k]
		signed := !it.author.at.IsZero()
		_ = w.e.EncodeArrayLen(itemFields + optional(signed))
		_ = w.e.EncodeString(it.key)
		_ = w.e.EncodeString(it.display.value)
		w.stamp(it.display.at)
		_ = w.e.EncodeString(it.category.value)
		w.optStamp(it.category.at)
		_ = w.e.EncodeString(it.note.value)
		w.optStamp(it.note.at)
		w.optStamp(it.removed)
		w.optStamp(it.legacyRemoved)
		w.slots(it.slots, false)
		w.slots(it.cut, true)
		if it.set.at.IsZero() {
			_ = w.e.EncodeNil()
		} else {
			_ = w.e.EncodeArrayLen(setFields)
			w.stamp(it.set.at)
			_ = w.e.EncodeUint(it.set.wanted)
			w.slots(it.set.obs, false)
		}
		if signed {
			_ = w.e.EncodeArrayLen(authorFields)
			_ = w.e.EncodeString(it.author.value)
			w.stamp(it.author.at)
		}
	}
	return buf.Bytes()
}

// optional counts an optional field: 1 if it is written.
func optional(written bool) int {
	if written {
		return 1
	}
	return 0
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
	// Every stamp of a valid state is at most one computeMax visits, so the
	// newest one read is the list's; list() counted the present items.
	l.max = maxStamp(l.max, d.max)
	return l, nil
}

// decoder keeps the first error, so the grammar reads straight through.
type decoder struct {
	dec     *msgpack.Decoder
	err     error
	v1      bool                // reading format version 1
	early   bool                // reading version 2 as written before lists had a floor
	max     Timestamp           // the newest stamp read: the list's MaxStamp
	scratch [timestampSize]byte // what bin reads into
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

// bin reads a bin (or str) of exactly size (at most timestampSize) bytes
// into the decoder's scratch space, valid until the next call. It checks
// the claimed length before reading: msgpack's DecodeBytes allocates
// whatever length the input claims, so a five-byte header could ask for
// gigabytes.
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
		b := d.scratch[:size]
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
	if t.After(d.max) {
		d.max = t
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
