package crdt

import (
	"fmt"
	"slices"
)

// Compaction: how the list forgets what can no longer matter.
//
// A remove leaves a tombstone: the item, its slots and the remove's
// snapshots of them, so that a replica that has not seen the remove cannot
// bring the item back by merging. Kept for ever, tombstones would fill a
// list. So a list carries a floor, a stamp merged by maximum, and forgets
// what removes at or before the floor cancelled:
//
//   - a slot that a remove at or before the floor cancelled (its snapshot,
//     in the same life, is as new as the slot), with the snapshot;
//   - a set, category or note that such a remove saw, or whose maker's slot
//     is forgotten or has started a new life since;
//   - a snapshot of an earlier life than its slot's (it cancels nothing);
//   - and so a removed item whose every slot goes: the whole tombstone.
//
// Storage servers raise the floor to a horizon in the past (90 days by
// default) when they write a list; it travels with the list to every
// replica. A list also keeps at most MaxTombstones removed items: past that
// the floor rises to the death of the newest of the excess oldest ones, so
// the oldest go first and a list with any number of removes still takes
// adds. Merge and every edit apply both rules, and every rule is a function
// of the merged state and the floor, so all replicas forget the same things
// and Merge stays a join (the property tests check it with compactions
// mixed into random histories).
//
// The guarantee rests on the horizon: every replica syncs at least once
// within it, so a remove at or before the floor has reached every replica
// before anything it cancelled is forgotten. A replica that syncs within
// the horizon therefore never sees a removed item come back.
//
// A replica offline for longer may hold what the cluster forgot: an item
// still present because it never saw the remove, or edits it made before
// the floor and never pushed. Merging those as usual would bring them back.
// So [List.MergeComplete], used with a state known to hold everything of
// the list stamped at or before its floor that still counts (a read of the
// cluster), first drops what the replica holds at or before that floor and
// the state does not, and names the items that changed so the user is
// told; and storage drops the same from what arrives (storage/save.go).
// Edits made after the floor stay.
//
// A replica that forgot an item and edits it again starts its totals anew:
// the new slot's base (item.go) is the floor, so a stale remove's snapshot
// of the old totals cannot cancel the new ones.

// Floor returns the list's floor.
func (l *List) Floor() Timestamp { return l.floor }

// Tombstones returns how many removed items the list keeps.
func (l *List) Tombstones() int { return len(l.items) - l.npresent }

// Compact raises the list's floor to floor (it never lowers it) and forgets
// what removes at or before it cancelled. It returns how many items it
// changed or forgot.
func (l *List) Compact(floor Timestamp) int {
	if !floor.After(l.floor) {
		return 0
	}
	l.floor = floor
	l.max = maxStamp(l.max, floor)
	return l.NormaliseAt(floor)
}

// NormaliseAt forgets, in every item, what removes at or before floor
// cancelled, without keeping floor as the list's own: for a storage part
// that holds items only, its list's floor being kept in another part. It
// returns how many items it changed or forgot.
func (l *List) NormaliseAt(floor Timestamp) int {
	n := 0
	for _, it := range l.items {
		if l.normalise(it, floor) {
			n++
		}
	}
	return n
}

// normalise applies the rules to it at floor and deletes it if nothing is
// left; it reports whether it changed or deleted it.
func (l *List) normalise(it *item, floor Timestamp) bool {
	changed, gone := it.normalise(floor)
	if gone {
		delete(l.items, it.key)
	}
	return changed || gone
}

// normalise applies the rules to it at floor (zero: only the rules that do
// not depend on one). It reports whether it changed anything and whether
// nothing of the item is left.
func (it *item) normalise(floor Timestamp) (changed, gone bool) {
	if len(it.cut) == 0 && it.set.obs == nil && it.removed.IsZero() && it.legacyRemoved.IsZero() &&
		(floor.IsZero() || (it.category.at.IsZero() && it.note.at.IsZero())) {
		return false, len(it.slots) == 0 // never removed, no set: nothing to forget
	}
	cancelledBy := func(by Timestamp) bool { return !floor.IsZero() && !by.IsZero() && !by.After(floor) }
	n := len(it.slots) + len(it.cut)
	if cancelledBy(it.legacyRemoved) {
		// A version 1 remove cancelled every edit stamped before it.
		it.slots = slices.DeleteFunc(it.slots, func(s slot) bool { return !it.counted(s) })
		if it.set.at.Compare(it.legacyRemoved) < 0 {
			it.set = wantedSet{}
		}
		it.legacyRemoved, changed = Timestamp{}, true
	}
	var forget []slot
	it.cut = slices.DeleteFunc(it.cut, func(c slot) bool {
		s, ok := find(it.slots, c.stamp.Replica)
		switch {
		case !ok || c.base().Compare(s.base()) < 0:
			return true
		case sameLife(c, s) && c.stamp == s.stamp && cancelledBy(c.by()):
			forget = append(forget, s)
			return true
		}
		return false
	})
	if len(forget) > 0 {
		it.slots = slices.DeleteFunc(it.slots, func(s slot) bool { return slices.Contains(forget, s) })
	}
	for _, r := range []*register{&it.category, &it.note} {
		// A text set at or before the floor that a remove cleared, or
		// that every life the item still has started after: every replica
		// has it or a later one, so none brings back an earlier.
		if !r.at.IsZero() && cancelledBy(r.at) && (!r.at.After(it.death()) || it.bornAfter(r.at)) {
			*r, changed = register{}, true
		}
	}
	if len(it.cut) == 0 && cancelledBy(it.removed) {
		it.removed, changed = Timestamp{}, true
	}
	changed = changed || len(it.slots)+len(it.cut) != n
	if !it.set.at.IsZero() {
		n := len(it.set.obs)
		setter := it.set.at.Replica
		it.set.obs = slices.DeleteFunc(it.set.obs, func(o slot) bool {
			s, ok := find(it.slots, o.stamp.Replica)
			if !ok || !sameLife(o, s) {
				return true
			}
			// An observation no newer than the same life's snapshot is
			// never a baseline (the snapshot is), and never will be.
			c, _ := find(it.cut, o.stamp.Replica)
			return o.stamp.Replica != setter && sameLife(c, s) && !o.stamp.After(c.stamp)
		})
		changed = changed || len(it.set.obs) != n
		if !observedSetter(it.set) || it.over(it.set.at, floor) {
			it.set, changed = wantedSet{}, true
		}
	}
	return changed, len(it.slots) == 0 && it.legacyRemoved.IsZero()
}

// bornAfter reports whether every slot's life started after t.
func (it *item) bornAfter(t Timestamp) bool {
	return !slices.ContainsFunc(it.slots, func(s slot) bool { return s.base().Compare(t) <= 0 })
}

// over reports whether the set stamped at is over for good: its maker's
// slot is forgotten or has started a new life since, or a remove saw it and
// it is stamped at or before the floor. (Every replica holds such a set, or
// a later one, so none can bring back an earlier set that would then hold.)
func (it *item) over(at, floor Timestamp) bool {
	s, ok := find(it.slots, at.Replica)
	if !ok || at.Compare(s.base()) < 0 {
		return true
	}
	return !floor.IsZero() && !at.After(floor) && !it.liveEdit(at)
}

// bound raises the floor until at most MaxTombstones removed items remain.
func (l *List) bound() {
	extra := l.Tombstones() - MaxTombstones
	if extra <= 0 {
		return
	}
	deaths := make([]Timestamp, 0, l.Tombstones())
	for _, it := range l.items {
		if !it.present() {
			deaths = append(deaths, it.death())
		}
	}
	slices.SortFunc(deaths, Timestamp.Compare)
	l.Compact(deaths[extra-1])
}

// MergeComplete merges o, a state known to hold everything of the list
// stamped at or before o's floor that still counts (what a read of the
// cluster returns), into l. Before merging it drops from l what is stamped
// at or before o's floor and o does not hold (see DropStale). It returns
// the names of the items that were present and changed by the drop, in key
// order, for the user to be told.
func (l *List) MergeComplete(o *List) ([]string, error) {
	if l.id != o.id {
		return nil, fmt.Errorf("%w: %s and %s", ErrIDMismatch, l.id, o.id)
	}
	dropped := l.DropStale(o, o.floor)
	return dropped, l.Merge(o)
}

// DropStale drops from l the edits stamped at or before floor that o does
// not hold: slots o has no version of as new, removes' snapshots o has
// none of as new, and sets, categories, notes and authors o has nothing as
// new for.
// o is a state known to hold everything of the list stamped at or before
// floor that still counts, so these are edits it forgot, or that were made
// before the floor and never reached it. Items left with nothing are
// dropped. It returns the names of the items that were present and whose
// view changed, in key order.
func (l *List) DropStale(o *List, floor Timestamp) []string {
	if floor.IsZero() {
		return nil
	}
	stale := func(t Timestamp) bool { return !t.IsZero() && !t.After(floor) }
	var changed []string
	for _, k := range l.ItemKeys() {
		it, oit := l.items[k], o.items[k]
		if oit == nil {
			oit = &item{}
		}
		was := it.present()
		before := view(it)
		held := func(ss []slot, s slot) bool {
			os, ok := find(ss, s.stamp.Replica)
			return ok && os.stamp.Compare(s.stamp) >= 0
		}
		it.slots = slices.DeleteFunc(it.slots, func(s slot) bool { return stale(s.stamp) && !held(oit.slots, s) })
		it.cut = slices.DeleteFunc(it.cut, func(c slot) bool { return stale(c.by()) && !held(oit.cut, c) })
		if stale(it.set.at) && it.set.at.After(oit.set.at) {
			it.set = wantedSet{}
		}
		if stale(it.category.at) && it.category.at.After(oit.category.at) {
			it.category = register{}
		}
		if stale(it.note.at) && it.note.at.After(oit.note.at) {
			it.note = register{}
		}
		if stale(it.author.at) && it.author.at.After(oit.author.at) {
			it.author = register{}
		}
		if stale(it.removed) && it.removed.After(oit.removed) {
			it.removed = Timestamp{} // the latest remove is one of those dropped
			for _, c := range it.cut {
				it.removed = maxStamp(it.removed, c.by())
			}
		}
		_, gone := it.normalise(Timestamp{})
		if gone {
			delete(l.items, k)
		}
		now := !gone && it.present()
		switch {
		case was && !now:
			l.npresent--
			changed = append(changed, before.Name)
		case !was && now:
			l.npresent++
		case was && view(it) != before:
			changed = append(changed, before.Name)
		}
	}
	return changed
}
