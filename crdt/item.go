package crdt

import (
	"bytes"
	"slices"

	"github.com/google/uuid"
)

// slot is one replica's counters on one item. Only that replica writes it, and
// stamp is the HLC time of its latest edit, so stamp.Replica names the owner
// and, of two versions of a slot, the one with the later stamp is the newer.
type slot struct {
	stamp           Timestamp
	wantAdd, wantRm uint64 // PN-counter of the wanted quantity
	buyAdd, buyRm   uint64 // PN-counter of the bought quantity
}

// item is the replicated state of one item of a list.
type item struct {
	key       string    // normalised name; the item's identity
	display   string    // the name shown, a last-writer-wins register
	displayAt Timestamp // stamp of display
	added     Timestamp // stamp of the latest edit that asserts presence
	removed   Timestamp // stamp of the latest remove; zero if never removed
	slots     []slot    // live slots, sorted by replica; all stamps ≤ added
}

// present reports whether the item is in the list: its latest edit is not
// older than its latest remove (on a tie, add wins).
func (it *item) present() bool { return !it.added.IsZero() && it.added.Compare(it.removed) >= 0 }

// modified is the newest stamp on the item.
func (it *item) modified() Timestamp {
	return maxStamp(maxStamp(it.added, it.removed), it.displayAt)
}

// totals sums the live slots. The bounds on slots and counters keep the sums
// far from overflow.
func (it *item) totals() (wanted, bought int64) {
	for _, s := range it.slots {
		wanted += int64(s.wantAdd) - int64(s.wantRm)
		bought += int64(s.buyAdd) - int64(s.buyRm)
	}
	return wanted, bought
}

func (it *item) clone() *item {
	c := *it
	c.slots = slices.Clone(it.slots)
	return &c
}

func (it *item) search(replica uuid.UUID) (int, bool) {
	return slices.BinarySearchFunc(it.slots, replica, func(s slot, r uuid.UUID) int {
		return bytes.Compare(s.stamp.Replica[:], r[:])
	})
}

// slot returns the replica's slot, if it has one.
func (it *item) slot(replica uuid.UUID) (*slot, bool) {
	if i, ok := it.search(replica); ok {
		return &it.slots[i], true
	}
	return nil, false
}

// slotFor returns a pointer to the replica's slot, creating it if needed.
func (it *item) slotFor(replica uuid.UUID) *slot {
	i, found := it.search(replica)
	if !found {
		it.slots = slices.Insert(it.slots, i, slot{stamp: Timestamp{Replica: replica}})
	}
	return &it.slots[i]
}

// dropDead removes the slots of earlier lives of the item: those older than
// its latest remove.
func (it *item) dropDead() {
	it.slots = slices.DeleteFunc(it.slots, func(s slot) bool { return s.stamp.Compare(it.removed) < 0 })
}

// merge joins o into it. It never aliases o.
func (it *item) merge(o *item) {
	it.added = maxStamp(it.added, o.added)
	it.removed = maxStamp(it.removed, o.removed)
	if c := o.displayAt.Compare(it.displayAt); c > 0 || (c == 0 && o.display > it.display) {
		it.display, it.displayAt = o.display, o.displayAt
	}
	it.slots = mergeSlots(it.slots, o.slots)
	it.dropDead()
}

// mergeSlots merges two replica-sorted slot lists into a new one. Of two
// versions of one replica's slot the later stamp wins; an exact tie (only
// possible in a forged state) takes the larger of each counter, so the
// result is still a join.
func mergeSlots(a, b []slot) []slot {
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
	return slot{
		stamp:   x.stamp,
		wantAdd: max(x.wantAdd, y.wantAdd), wantRm: max(x.wantRm, y.wantRm),
		buyAdd: max(x.buyAdd, y.buyAdd), buyRm: max(x.buyRm, y.buyRm),
	}
}
