// Package ledger records what writers sent and what the cluster
// acknowledged, and judges a final read against it.
//
// The writers of the benchmark and of the cluster tests only ever add to
// the wanted and bought counters of items. So for each item a Ledger knows
// a lower bound of what the cluster must hold (the increments it
// acknowledged) and an upper bound (every increment sent: a push carries
// the replica's running totals, so a failed push may still land through a
// later one). Check compares a list as read back with both bounds: an
// acknowledged increment missing is lost, one beyond what was sent is
// phantom. Either makes the Verdict fail.
package ledger

import (
	"maps"
	"slices"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// counts holds the wanted and bought increments made on one item.
type counts struct{ want, buy int64 }

func (c *counts) add(o counts) { c.want += o.want; c.buy += o.buy }

// tally is what one item was sent and what of it was acknowledged.
type tally struct{ attempted, acked counts }

// Ledger records, per list and item, the increments of the wanted and
// bought counters that were pushed (attempted) and that the cluster
// acknowledged. The final read of an item must show at least the
// acknowledged total (else a write was lost) and at most the attempted
// total (else the state holds something nobody wrote). The zero Ledger is
// not usable; use New. A Ledger is not safe for concurrent use while it is
// written: each writer keeps its own and they are merged with Add. Check
// and Lists only read, and may run concurrently with each other.
type Ledger struct {
	lists map[uuid.UUID]map[string]*tally
}

// New returns an empty ledger.
func New() *Ledger { return &Ledger{lists: map[uuid.UUID]map[string]*tally{}} }

func (l *Ledger) tally(list uuid.UUID, key string) *tally {
	items := l.lists[list]
	if items == nil {
		items = map[string]*tally{}
		l.lists[list] = items
	}
	t := items[key]
	if t == nil {
		t = &tally{}
		items[key] = t
	}
	return t
}

// Attempt records increments about to be pushed for an item, by its
// normalised key.
func (l *Ledger) Attempt(list uuid.UUID, key string, want, buy int64) {
	l.tally(list, key).attempted.add(counts{want, buy})
}

// Ack records increments the cluster acknowledged.
func (l *Ledger) Ack(list uuid.UUID, key string, want, buy int64) {
	l.tally(list, key).acked.add(counts{want, buy})
}

// AttemptList records every item of a whole list state about to be pushed,
// with its current totals.
func (l *Ledger) AttemptList(s *crdt.List) {
	for _, it := range s.Items() {
		l.Attempt(s.ID(), it.Key, it.Wanted, it.Bought)
	}
}

// AckList records every item of a whole list state as acknowledged.
func (l *Ledger) AckList(s *crdt.List) {
	for _, it := range s.Items() {
		l.Ack(s.ID(), it.Key, it.Wanted, it.Bought)
	}
}

// Add merges o into l.
func (l *Ledger) Add(o *Ledger) {
	for list, items := range o.lists {
		for key, t := range items {
			mine := l.tally(list, key)
			mine.attempted.add(t.attempted)
			mine.acked.add(t.acked)
		}
	}
}

// Lists returns the IDs of every list in the ledger, sorted.
func (l *Ledger) Lists() []uuid.UUID {
	return slices.SortedFunc(maps.Keys(l.lists), func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
}
