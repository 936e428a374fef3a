package crdt

import (
	"bytes"
	"slices"

	"github.com/google/uuid"
)

// counts are one replica's running totals on one item. They only grow, so
// of two snapshots of one replica's totals the later is the larger in every
// field.
type counts struct {
	wantAdd, wantRm uint64 // the wanted quantity: added, taken away
	buyAdd, buyRm   uint64 // the bought quantity: bought, unbought
}

// covers reports whether c is at least o in every field.
func (c counts) covers(o counts) bool {
	return c.wantAdd >= o.wantAdd && c.wantRm >= o.wantRm && c.buyAdd >= o.buyAdd && c.buyRm >= o.buyRm
}

// slot is one replica's totals on one item, stamped with the HLC time of
// that replica's latest edit of the item. Only that replica writes its
// slot, so stamp.Replica names the owner and, of two versions of a slot,
// the one with the later stamp is the newer. A remove's cut and a set's
// observation are slots too: snapshots of what they saw.
//
// A slot's life: a replica that forgot the item (its tombstone was
// compacted, see compact.go) and edits it again starts its totals from
// zero; it stamps the new slot with base = the list's floor, which is after
// every stamp of the forgotten life. A snapshot counts against a slot only
// if it has the same base: one taken of an earlier life cancels nothing of
// the new one. A remove's snapshot also records by, the stamp of the
// earliest remove that took it, which tells whether what it cancels was
// cancelled at or before the list's floor, and so may be forgotten.
//
// Both are rare (base is zero until a list is compacted, by is set on
// snapshots only), so they live behind a pointer, nil when both are zero,
// and never changed in place: slots are copied on every merge.
type slot struct {
	stamp Timestamp
	counts
	ext *slotExt
}

// slotExt is what few slots carry; see slot.
type slotExt struct{ base, by Timestamp }

// withExt returns s with the given base and by.
func (s slot) withExt(base, by Timestamp) slot {
	s.ext = nil
	if !base.IsZero() || !by.IsZero() {
		s.ext = &slotExt{base: base, by: by}
	}
	return s
}

// base is the start of the slot's life; zero for a slot made before any
// compaction.
func (s slot) base() Timestamp {
	if s.ext == nil {
		return Timestamp{}
	}
	return s.ext.base
}

// by is a snapshot's remove; zero in a slot.
func (s slot) by() Timestamp {
	if s.ext == nil {
		return Timestamp{}
	}
	return s.ext.by
}

// sameLife reports whether snapshot c was taken of the life s is in.
func sameLife(c, s slot) bool { return c.base() == s.base() }

// wantedSet is the latest "set the wanted quantity": the value set, and what the
// setter had seen of every replica's totals, which the set overrides. Edits
// it had not seen apply on top of it.
type wantedSet struct {
	at     Timestamp // the set's stamp, also its setter's slot stamp then
	wanted uint64
	obs    []slot // the slots the setter saw, sorted by replica
}

// item is the replicated state of one item of a list. See the package
// documentation for the rules its fields implement.
type item struct {
	key      string   // normalised name; the item's identity
	display  register // the name shown
	category register // free text: the aisle
	note     register // free text: "the organic one"
	author   register // who made the latest edit (author.go)
	slots    []slot   // every replica's latest totals, sorted by replica
	cut      []slot   // what removes saw: per replica the latest slot a remove observed
	removed  Timestamp
	// legacyRemoved is a remove made by format version 1, which cancelled
	// every edit stamped before it; zero in lists made by this version.
	legacyRemoved Timestamp
	set           wantedSet
}

// find returns the slot of replica r in slots, sorted by replica.
func find(slots []slot, r uuid.UUID) (slot, bool) {
	i, ok := slices.BinarySearchFunc(slots, r, func(s slot, r uuid.UUID) int {
		return bytes.Compare(s.stamp.Replica[:], r[:])
	})
	if !ok {
		return slot{}, false
	}
	return slots[i], true
}

// counted reports whether s counts at all: format version 1's removes
// cancelled every edit stamped before them (on a tie the edit won).
func (it *item) counted(s slot) bool { return s.stamp.Compare(it.legacyRemoved) >= 0 }

// unseen reports whether s holds an edit that no remove of the item saw.
func (it *item) unseen(s slot) bool {
	c, _ := find(it.cut, s.stamp.Replica)
	return it.counted(s) && s.stamp.After(c.stamp)
}

// death is when the item was last removed: its latest remove of either
// format version. Meaningful only for an item that is not present.
func (it *item) death() Timestamp { return maxStamp(it.removed, it.legacyRemoved) }

// present reports whether the item is in the list: some replica made an
// edit that no remove saw.
func (it *item) present() bool {
	return slices.ContainsFunc(it.slots, it.unseen)
}

// liveEdit reports whether the set of the wanted quantity stamped at still
// holds: no remove saw it. A set stamps its maker's slot, and a remove saw
// it if its snapshot of that slot, in the same life, is at least as new; a
// set of a life the maker has since left, or of a slot since forgotten, is
// over too.
func (it *item) liveEdit(at Timestamp) bool {
	if at.IsZero() || at.Compare(it.legacyRemoved) < 0 {
		return false
	}
	s, ok := find(it.slots, at.Replica)
	if !ok || at.Compare(s.base()) < 0 {
		return false
	}
	c, _ := find(it.cut, at.Replica)
	return !sameLife(c, s) || at.After(c.stamp)
}

// baseLive reports whether the latest set still holds.
func (it *item) baseLive() bool { return it.liveEdit(it.set.at) }

// text returns the value of a category or note register if it holds: a
// remove clears the texts set before it (by stamp), so an item added again
// starts without them.
func (it *item) text(r register) string {
	if !r.at.After(it.death()) {
		return ""
	}
	return r.value
}

// baselines returns what replica r's totals count from: for bought, the
// latest remove's cut; for wanted, the later of that and a live set's
// observation.
// Snapshots of an earlier life of the slot count as none.
func (it *item) baselines(s slot, live bool) (wanted, bought counts) {
	c, _ := find(it.cut, s.stamp.Replica)
	if !sameLife(c, s) {
		c = slot{}
	}
	w := c
	if live {
		if o, ok := find(it.set.obs, s.stamp.Replica); ok && sameLife(o, s) && o.stamp.After(c.stamp) {
			w = o
		}
	}
	return w.counts, c.counts
}

// contribution returns replica slot s's part of the wanted and bought
// quantities: its totals less its baselines.
func (it *item) contribution(s slot, live bool) (wanted, bought int64) {
	if !it.counted(s) {
		return 0, 0
	}
	w, b := it.baselines(s, live)
	wanted = int64(s.wantAdd-w.wantAdd) - int64(s.wantRm-w.wantRm)
	bought = int64(s.buyAdd-b.buyAdd) - int64(s.buyRm-b.buyRm)
	return wanted, bought
}

// totals returns the wanted and bought quantities: a live set's value plus
// every replica's part. Decode's checks (baselines never above the totals)
// and the counter bounds keep the arithmetic exact.
func (it *item) totals() (wanted, bought int64) {
	live := it.baseLive()
	if live {
		wanted = int64(it.set.wanted)
	}
	for _, s := range it.slots {
		w, b := it.contribution(s, live)
		wanted, bought = wanted+w, bought+b
	}
	return wanted, bought
}

// modified is the newest stamp on the item. modifiedAfter must look at the
// same stamps.
func (it *item) modified() Timestamp {
	m := maxStamp(maxStamp(it.display.at, it.category.at), maxStamp(it.note.at, it.author.at))
	m = maxStamp(maxStamp(m, it.removed), maxStamp(it.legacyRemoved, it.set.at))
	for _, s := range it.slots {
		m = maxStamp(m, s.stamp)
	}
	return m
}

// modifiedAfter reports whether it.modified().After(t), stopping at the
// first newer stamp rather than building the newest: Delta asks it of every
// item of a list, and most answer no.
func (it *item) modifiedAfter(t Timestamp) bool {
	if it.display.at.After(t) || it.category.at.After(t) || it.note.at.After(t) || it.author.at.After(t) ||
		it.removed.After(t) || it.legacyRemoved.After(t) || it.set.at.After(t) {
		return true
	}
	for i := range it.slots {
		if it.slots[i].stamp.After(t) {
			return true
		}
	}
	return false
}

func (it *item) clone() *item {
	c := *it
	c.slots = slices.Clone(it.slots)
	c.cut = slices.Clone(it.cut)
	c.set.obs = slices.Clone(it.set.obs)
	return &c
}

// slotFor returns a pointer to the replica's slot, creating it if needed
// with base as its life (the list's floor).
func (it *item) slotFor(replica uuid.UUID, base Timestamp) *slot {
	i, found := slices.BinarySearchFunc(it.slots, replica, func(s slot, r uuid.UUID) int {
		return bytes.Compare(s.stamp.Replica[:], r[:])
	})
	if !found {
		it.slots = slices.Insert(it.slots, i, slot{stamp: Timestamp{Replica: replica}}.withExt(base, Timestamp{}))
	}
	return &it.slots[i]
}

// merge joins o into it. It never aliases o. Every field is a join of its
// own: registers and the set by stamp, slots and cuts per replica by stamp,
// remove stamps by maximum.
func (it *item) merge(o *item) {
	it.display.merge(o.display)
	it.category.merge(o.category)
	it.note.merge(o.note)
	it.author.merge(o.author)
	it.slots = mergeSlots(it.slots, o.slots)
	it.cut = mergeSlots(it.cut, o.cut)
	it.removed = maxStamp(it.removed, o.removed)
	it.legacyRemoved = maxStamp(it.legacyRemoved, o.legacyRemoved)
	it.set = mergeSets(it.set, o.set)
}

// mergeSets keeps the later set. Two sets with one stamp exist only in a
// forged state; the larger value wins and their observations merge, so the
// result is still a join.
func mergeSets(a, b wantedSet) wantedSet {
	switch c := a.at.Compare(b.at); {
	case c > 0 || (c == 0 && a.wanted > b.wanted):
		return a
	case c < 0 || a.wanted < b.wanted:
		return wantedSet{at: b.at, wanted: b.wanted, obs: slices.Clone(b.obs)}
	}
	return wantedSet{at: a.at, wanted: a.wanted, obs: mergeSlots(a.obs, b.obs)}
}

// mergeSlots merges two replica-sorted slot lists into a new one. Of two
// versions of one replica's slot the later stamp wins; on a tie see
// tiedSlot.
func mergeSlots(a, b []slot) []slot {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make([]slot, 0, max(len(a), len(b)))
	for len(a) > 0 || len(b) > 0 {
		var c int
		switch {
		case len(a) == 0:
			c = 1
		case len(b) == 0:
			c = -1
		default:
			c = bytes.Compare(a[0].stamp.Replica[:], b[0].stamp.Replica[:])
		}
		switch {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			switch a[0].stamp.Compare(b[0].stamp) { // the later version, without copying both
			case 1:
				out = append(out, a[0])
			case -1:
				out = append(out, b[0])
			default:
				out = append(out, tiedSlot(&a[0], &b[0]))
			}
			a, b = a[1:], b[1:]
		}
	}
	return out
}

// earlier returns the earlier of two stamps, zero counting as none.
func earlier(a, b Timestamp) Timestamp {
	if a.IsZero() || (!b.IsZero() && b.Compare(a) < 0) {
		return b
	}
	return a
}

// tiedSlot merges two versions with one stamp. Two removes that saw the
// same version of a slot took equal snapshots, and the earlier remove is
// kept; two different slots with one stamp exist only in a forged state,
// and the larger of each field keeps the result a join.
func tiedSlot(x, y *slot) slot {
	if x.counts == y.counts && (x.ext == y.ext || (x.ext != nil && y.ext != nil && *x.ext == *y.ext)) {
		return *x // the same version, as almost every tie is
	}
	return slot{stamp: x.stamp, counts: counts{
		wantAdd: max(x.wantAdd, y.wantAdd), wantRm: max(x.wantRm, y.wantRm),
		buyAdd: max(x.buyAdd, y.buyAdd), buyRm: max(x.buyRm, y.buyRm),
	}}.withExt(maxStamp(x.base(), y.base()), earlier(x.by(), y.by()))
}
