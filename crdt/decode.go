package crdt

import (
	"bytes"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// list reads a whole list, of either format version.
func (d *decoder) list() *List {
	d.arrayLen("list", listFields, listFields)
	if d.err != nil {
		return nil
	}
	version, err := d.dec.DecodeUint64()
	if err != nil || (version != 1 && version != FormatVersion) {
		d.fail("unsupported format version (%v, %v); this replica reads versions 1 and %d", version, err, FormatVersion)
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
	item, limit := d.item, MaxEntries
	if version == 1 {
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
	}
	return l
}

// optStamp reads a stamp or nil (none). A zero stamp written out is not
// canonical: none is nil.
func (d *decoder) optStamp(what string) Timestamp {
	if d.err != nil {
		return Timestamp{}
	}
	if c, err := d.dec.PeekCode(); err == nil && c == msgpcode.Nil {
		_ = d.dec.DecodeNil()
		return Timestamp{}
	}
	t := d.stamp(what)
	if d.err == nil && t.IsZero() {
		d.fail("%s is a zero stamp written out; none is nil", what)
	}
	return t
}

// slots reads a replica-sorted list of slots with non-zero stamps.
func (d *decoder) slots(what string, min int) []slot {
	n := d.arrayLen(what, min, MaxSlots)
	var out []slot
	if n > 0 {
		out = make([]slot, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		d.arrayLen("slot", slotFields, slotFields)
		s := slot{stamp: d.stamp("slot stamp"), counts: counts{
			wantAdd: d.counter("wanted+"), wantRm: d.counter("wanted-"),
			buyAdd: d.counter("bought+"), buyRm: d.counter("bought-"),
		}}
		switch {
		case d.err != nil:
		case s.stamp.IsZero():
			d.fail("%s: slot without a stamp", what)
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
	case r.at.IsZero() && r.value != "":
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
	d.arrayLen("item", itemFields, itemFields)
	it := &item{key: d.str("item key", 3*MaxNameBytes)}
	it.display = d.register("item name", MaxNameBytes, true)
	it.category = d.register("category", MaxCategoryBytes, false)
	it.note = d.register("note", MaxNoteBytes, false)
	it.removed = d.optStamp("remove stamp")
	it.legacyRemoved = d.optStamp("version 1 remove stamp")
	it.slots = d.slots("slots", 0)
	it.cut = d.slots("cut", 0)
	it.set = d.wantedSet()
	if d.err != nil {
		return nil
	}
	switch {
	case it.key == "":
		d.fail("item with an empty key")
	case len(it.slots) == 0 && it.legacyRemoved.IsZero():
		d.fail("item %q was never edited", it.key)
	case it.removed.IsZero() != (len(it.cut) == 0):
		d.fail("item %q: remove stamp and cut disagree", it.key)
	case !d.covered(it, it.cut, "cut"):
	case !after(it.removed, it.cut):
		d.fail("item %q: remove stamped before what it saw", it.key)
	case !it.set.at.IsZero() && !d.covered(it, it.set.obs, "set"):
	case !it.set.at.IsZero() && !observedSetter(it.set):
		d.fail("item %q: a set that did not observe its setter", it.key)
	}
	if d.err != nil {
		return nil
	}
	return it
}

// after reports whether t is after every stamp in ss.
func after(t Timestamp, ss []slot) bool {
	for _, s := range ss {
		if !t.After(s.stamp) {
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
// slot in it.
func (d *decoder) covered(it *item, snaps []slot, what string) bool {
	for _, c := range snaps {
		s, ok := find(it.slots, c.stamp.Replica)
		if !ok || c.stamp.After(s.stamp) || !s.covers(c.counts) {
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
	b.obs = d.slots("set's observation", 1)
	if d.err == nil && (b.at.IsZero() || b.wanted == 0) {
		d.fail("set without a stamp or a value")
	}
	return b
}
