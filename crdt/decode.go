package crdt

import (
	"bytes"
	"fmt"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// list reads a whole list, of either format version.
func (d *decoder) list() *List {
	fields := d.arrayLen("list", listFieldsV1, listFields+1)
	if d.err != nil {
		return nil
	}
	version, err := d.dec.DecodeUint64()
	if err != nil || (version != 1 && version != FormatVersion) {
		d.fail("unsupported format version (%v, %v); this replica reads versions 1 and %d", version, err, FormatVersion)
		return nil
	}
	d.v1 = version == 1
	d.early = version == FormatVersion && fields == listFieldsV1 // see codec_v2early.go
	if (d.v1 || d.early) && fields != listFieldsV1 {
		d.fail("a list of format version %d with %d fields", version, fields)
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
	if !d.v1 && !d.early {
		l.floor = d.optStamp("floor")
	}
	if fields > listFields {
		l.deleted = d.deletion()
	}
	item, limit := d.item, MaxEntries
	if d.v1 {
		item, limit = d.itemV1, maxItemsV1
	}
	n := d.arrayLen("items", 0, limit)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		it := item()
		if d.err != nil {
			break
		}
		if i > 0 && it.key <= prev {
			d.fail("item %q out of order or repeated", it.key)
			break
		}
		prev = it.key
		l.items[it.key] = it
		if changed, _ := it.normalise(l.floor); changed && !d.early {
			d.fail("item %q holds what the list forgets (compact.go)", it.key)
		}
	}
	if d.err == nil {
		l.npresent = l.countPresent()
		if d.v1 {
			// Version 1 kept every tombstone; the converted list keeps the
			// newest MaxTombstones, as a merge would.
			l.max = l.computeMax()
			l.bound()
		}
		if n := l.Tombstones(); n > MaxTombstones {
			d.err = fmt.Errorf("%w: %d removed items kept, at most %d allowed", ErrTooLarge, n, MaxTombstones)
		}
	}
	return l
}

// optStamp reads a stamp or nil (none). A zero stamp written out is not
// canonical: none is nil.
func (d *decoder) optStamp(what string) Timestamp {
	t, _ := d.maybeStamp(what)
	return t
}

// maybeStamp is optStamp, also reporting whether a stamp was there.
func (d *decoder) maybeStamp(what string) (Timestamp, bool) {
	if d.err != nil {
		return Timestamp{}, false
	}
	if c, err := d.dec.PeekCode(); err == nil && c == msgpcode.Nil {
		_ = d.dec.DecodeNil()
		return Timestamp{}, false
	}
	t := d.stamp(what)
	if d.err == nil && t.IsZero() {
		d.fail("%s is a zero stamp written out; none is nil", what)
	}
	return t, true
}

// slots reads a replica-sorted list of slots with non-zero stamps, or with
// cut set a remove's snapshots.
func (d *decoder) slots(what string, min int, cut bool) []slot {
	n := d.arrayLen(what, min, MaxSlots)
	var out []slot
	if n > 0 {
		out = make([]slot, 0, n)
	}
	fields := slotFields
	switch {
	case d.v1 || d.early:
		fields = slotFieldsV1
	case cut:
		fields = snapFields
	}
	for i := 0; i < n && d.err == nil; i++ {
		d.arrayLen("slot", fields, fields)
		s := slot{stamp: d.stamp("slot stamp")}
		switch {
		case d.early && cut:
			s.ext = &slotExt{} // its remove is the item's: see item()
		case !d.v1 && !d.early:
			if base, ok := d.maybeStamp("slot base"); ok || cut {
				s.ext = &slotExt{base: base}
			}
			if cut {
				s.ext.by = d.stamp("snapshot's remove")
			}
		}
		s.counts = counts{
			wantAdd: d.counter("wanted+"), wantRm: d.counter("wanted-"),
			buyAdd: d.counter("bought+"), buyRm: d.counter("bought-"),
		}
		switch {
		case d.err != nil:
		case s.stamp.IsZero():
			d.fail("%s: slot without a stamp", what)
		case s.base().After(s.stamp):
			d.fail("%s: slot of a life that starts after it", what)
		case cut && !d.early && !s.by().After(s.stamp):
			d.fail("%s: a remove stamped before what it saw", what)
		case i > 0 && bytes.Compare(s.stamp.Replica[:], out[i-1].stamp.Replica[:]) <= 0:
			d.fail("%s: slots out of order or repeated", what)
		default:
			out = append(out, s)
		}
	}
	return out
}

// register reads a value and its stamp; a value without a stamp, or
// (required) a stamp without a value, is malformed.
func (d *decoder) register(what string, maxLen int, required bool) register {
	r := register{value: d.str(what, maxLen)}
	if required {
		r.at = d.stamp(what)
	} else {
		r.at = d.optStamp(what)
	}
	switch {
	case d.err != nil:
	case r.value != "" && r.at.IsZero():
		d.fail("%s %q has no stamp", what, r.value)
	case required && r.value == "":
		d.fail("%s is empty", what)
	}
	return r
}

// item reads one item of format version 2 and checks that it is a state
// the rules can produce: every snapshot a remove or a set took of a
// replica's totals is covered by that replica's slot (same or later stamp,
// totals at least as large), a remove is stamped after what it saw, and a
// set observed its own setter.
func (d *decoder) item() *item {
	fields := d.arrayLen("item", itemFields, itemFields+1)
	if d.early && fields > itemFields {
		d.fail("an item of version 2 as first written with %d fields", fields)
	}
	it := &item{key: d.str("item key", 3*MaxNameBytes)}
	it.display = d.register("item name", MaxNameBytes, true)
	it.category = d.register("category", MaxCategoryBytes, false)
	it.note = d.register("note", MaxNoteBytes, false)
	it.removed = d.optStamp("remove stamp")
	it.legacyRemoved = d.optStamp("version 1 remove stamp")
	it.slots = d.slots("slots", 0, false)
	it.cut = d.slots("cut", 0, true)
	if d.early {
		earlySnapshots(it)
	}
	it.set = d.wantedSet()
	if fields > itemFields {
		it.author = d.author()
	}
	if d.err != nil {
		return nil
	}
	switch {
	case it.key == "":
		d.fail("item with an empty key")
	case len(it.slots) == 0 && it.legacyRemoved.IsZero():
		d.fail("item %q was never edited", it.key)
	case len(it.cut) > 0 && it.removed.IsZero():
		d.fail("item %q: a cut without a remove", it.key)
	case !d.covered(it, it.cut, "cut"):
	case !removedLast(it):
		d.fail("item %q: a snapshot taken by a remove after the item's last", it.key)
	case !it.set.at.IsZero() && !d.covered(it, it.set.obs, "set"):
	case !it.set.at.IsZero() && !observedSetter(it.set):
		d.fail("item %q: a set that did not observe its setter", it.key)
	}
	if d.err != nil {
		return nil
	}
	return it
}

// removedLast reports whether the item's remove stamp is at least every
// snapshot's remove. (It may be later than all: a remove that found every
// slot already cancelled keeps the snapshots' earlier removes.)
func removedLast(it *item) bool {
	for _, c := range it.cut {
		if c.by().After(it.removed) {
			return false
		}
	}
	return true
}

// observedSetter reports whether the set's observation holds its setter's
// slot as of the set.
func observedSetter(b wantedSet) bool {
	s, ok := find(b.obs, b.at.Replica)
	return ok && s.stamp == b.at
}

// covered checks that every snapshot in snaps is covered by its replica's
// slot in it: not newer, and, if of the same life, with totals no larger; a
// snapshot of a later life than the slot's is impossible.
func (d *decoder) covered(it *item, snaps []slot, what string) bool {
	for _, c := range snaps {
		s, ok := find(it.slots, c.stamp.Replica)
		if !ok || c.stamp.After(s.stamp) || c.base().After(s.base()) || (sameLife(c, s) && !s.covers(c.counts)) {
			d.fail("item %q: %s holds totals of replica %s that its slot does not", it.key, what, c.stamp.Replica)
			return false
		}
	}
	return true
}

// wantedSet reads a set, or nil for none.
func (d *decoder) wantedSet() wantedSet {
	if d.err != nil {
		return wantedSet{}
	}
	if c, err := d.dec.PeekCode(); err == nil && c == msgpcode.Nil {
		_ = d.dec.DecodeNil()
		return wantedSet{}
	}
	d.arrayLen("set", setFields, setFields)
	b := wantedSet{at: d.stamp("set stamp")}
	b.wanted = d.counter("set value")
	b.obs = d.slots("set's observation", 1, false)
	if d.err == nil && (b.at.IsZero() || b.wanted == 0) {
		d.fail("set without a stamp or a value")
	}
	return b
}

// author reads an item's author register: [name str, at ts], the name
// trimmed (it may be empty: see author.go) and the stamp nonzero, as only
// an edit writes it.
func (d *decoder) author() register {
	d.arrayLen("author", authorFields, authorFields)
	r := register{value: d.str("author", MaxAuthorBytes)}
	r.at = d.stamp("author stamp")
	switch {
	case d.err != nil:
	case r.at.IsZero():
		d.fail("author %q without a stamp", r.value)
	case TrimName(r.value) != r.value:
		d.fail("author %q is not trimmed", r.value)
	}
	return r
}
