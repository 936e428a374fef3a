package crdt

// Format version 1 of the list, read and converted so that replicas and
// stores written by earlier releases upgrade without losing anything:
//
//	item = [key str, display str, displayAt ts, added ts, removed ts, [slot...]]
//
// Version 1 decided presence by timestamps: a remove cancelled every edit
// stamped before it, and its slots from before the remove were dropped. A
// converted item keeps that remove as legacyRemoved, which cancels exactly
// those edits, so the item is present after conversion exactly when it was
// before, with the same quantities; and a copy of the item converted from
// an older replica (with slots the remove had dropped) cannot bring it back.
// Removes made from then on are this version's, which cancel only what they
// saw.

// maxItemsV1 is the most items version 1 allowed, removed ones included;
// its lists and slots had one field fewer (no floor, no base).
const (
	maxItemsV1   = 5000
	listFieldsV1 = 5
	slotFieldsV1 = 5
)

// itemV1 reads one item of format version 1 and converts it.
func (d *decoder) itemV1() *item {
	d.arrayLen("item", 6, 6)
	it := &item{key: d.str("item key", 3*MaxNameBytes)}
	it.display = register{value: d.str("item name", MaxNameBytes), at: d.stamp("item name stamp")}
	added := d.stamp("item add stamp")
	removed := d.stamp("item remove stamp")
	if d.err != nil {
		return nil
	}
	switch {
	case it.key == "" || it.display.value == "":
		d.fail("item with an empty key or name")
	case added.IsZero() || it.display.at.IsZero():
		d.fail("item %q was never added", it.key)
	}
	it.slots = d.slots("slots", 0, false)
	for _, s := range it.slots {
		switch {
		case d.err != nil:
		case s.stamp.After(added):
			d.fail("item %q: slot newer than the item's last edit", it.key)
		case s.stamp.Compare(removed) < 0:
			d.fail("item %q: slot from before its removal", it.key)
		}
	}
	if d.err != nil {
		return nil
	}
	it.legacyRemoved = removed
	if added.Compare(removed) >= 0 && !it.present() {
		// Present in version 1 without a slot of its own (a state edited
		// only by a release that kept no slot): keep it present.
		d.fail("item %q: present without any edit", it.key)
	}
	return it
}
