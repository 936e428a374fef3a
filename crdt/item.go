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
type slot struct {
	stamp Timestamp
	counts
}

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

// present reports whether the item is in the list: some replica made an
// edit that no remove saw.
func (it *item) present() bool {
	return slices.ContainsFunc(it.slots, it.unseen)
}

// baseLive reports whether the latest set still holds: no remove saw it.
func (it *item) baseLive() bool {
	b := it.set
	if b.at.IsZero() || b.at.Compare(it.legacyRemoved) < 0 {
		return false
	}
	c, _ := find(it.cut, b.at.Replica)
	return b.at.After(c.stamp)
}

// baselines returns what replica r's totals count from: for bought, the
// latest remove's cut; for wanted, the later of that and a live set's
// observation.
func (it *item) baselines(r uuid.UUID, live bool) (wanted, bought counts) {
	c, _ := find(it.cut, r)
	w := c
	if live {
		if o, ok := find(it.set.obs, r); ok && o.stamp.After(c.stamp) {
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
	w, b := it.baselines(s.stamp.Replica, live)
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

// modified is the newest stamp on the item.
func (it *item) modified() Timestamp {
	m := maxStamp(maxStamp(it.display.at, it.category.at), it.note.at)
	m = maxStamp(maxStamp(m, it.removed), maxStamp(it.legacyRemoved, it.set.at))
	for _, s := range it.slots {
		m = maxStamp(m, s.stamp)
	}
	return m
}

func (it *item) clone() *item {
	c := *it
	c.slots = slices.Clone(it.slots)
	c.cut = slices.Clone(it.cut)
	c.set.obs = slices.Clone(it.set.obs)
	return &c
}

// slotFor returns a pointer to the replica's slot, creating it if needed.
func (it *item) slotFor(replica uuid.UUID) *slot {
	i, found := slices.BinarySearchFunc(it.slots, replica, func(s slot, r uuid.UUID) int {
		return bytes.Compare(s.stamp.Replica[:], r[:])
	})
	if !found {
		it.slots = slices.Insert(it.slots, i, slot{stamp: Timestamp{Replica: replica}})
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
// versions of one replica's slot the later stamp wins; an exact tie (only
// possible in a forged state) takes the larger of each counter, so the
// result is still a join.
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
			out = append(out, newerSlot(a[0], b[0]))
			a, b = a[1:], b[1:]
		}
	}
	return out
}

func newerSlot(x, y slot) slot {
	switch x.stamp.Compare(y.stamp) {
	case 1:
		return x
	case -1:
		return y
	}
	return slot{stamp: x.stamp, counts: counts{
		wantAdd: max(x.wantAdd, y.wantAdd), wantRm: max(x.wantRm, y.wantRm),
		buyAdd: max(x.buyAdd, y.buyAdd), buyRm: max(x.buyRm, y.buyRm),
	}}
}
