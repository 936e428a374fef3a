package loadgen

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
// bought counters that were pushed (attempted) and that the proxy
// acknowledged. The benchmark only ever adds to these counters, so the
// final quorum read of an item must show at least the acknowledged total
// (else a write was lost) and at most the attempted total (else the state
// holds something nobody wrote). The zero Ledger is not usable; use
// NewLedger. A Ledger is not safe for concurrent use: each client keeps
// its own and they are merged with Add.
type Ledger struct {
	lists map[uuid.UUID]map[string]*tally
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{lists: map[uuid.UUID]map[string]*tally{}} }

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

// Ack records increments the proxy acknowledged.
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

// Verdict is the outcome of checking final states against a ledger.
type Verdict struct {
	// Acknowledged counts the acknowledged increments checked: each is one
	// edit (an add of 1 or a buy of 1; a list created with K items counts
	// as K, plus its bought ones).
	Acknowledged int64
	// Lost counts acknowledged increments missing from the final state.
	Lost int64
	// Phantom counts increments in the final state beyond what was ever
	// pushed: corruption, as bad as a loss.
	Phantom int64
	// Lists is how many lists were checked; Damaged how many of them lost
	// or invented something; Missing how many had acknowledged writes and
	// no state at all.
	Lists, Damaged, Missing int
}

// OK reports whether nothing was lost or invented.
func (v Verdict) OK() bool { return v.Lost == 0 && v.Phantom == 0 }

// Add merges o into v.
func (v *Verdict) Add(o Verdict) {
	v.Acknowledged += o.Acknowledged
	v.Lost += o.Lost
	v.Phantom += o.Phantom
	v.Lists += o.Lists
	v.Damaged += o.Damaged
	v.Missing += o.Missing
}

// Check compares one list's final state (nil when the read found nothing)
// with what the ledger says was acknowledged and attempted for it.
func (l *Ledger) Check(list uuid.UUID, final *crdt.List) Verdict {
	v := Verdict{Lists: 1}
	var acked int64
	for key, t := range l.lists[list] {
		var got counts
		if final != nil {
			if it, ok := final.Lookup(key); ok {
				got = counts{it.Wanted, it.Bought}
			}
		}
		acked += t.acked.want + t.acked.buy
		v.Lost += max(0, t.acked.want-got.want) + max(0, t.acked.buy-got.buy)
		v.Phantom += max(0, got.want-t.attempted.want) + max(0, got.buy-t.attempted.buy)
	}
	if final != nil {
		for _, it := range final.Items() {
			if _, known := l.lists[list][it.Key]; !known {
				v.Phantom += it.Wanted + it.Bought
			}
		}
	}
	v.Acknowledged = acked
	if !v.OK() {
		v.Damaged = 1
	}
	if final == nil && acked > 0 {
		v.Missing = 1
	}
	return v
}
