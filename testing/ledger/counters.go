package ledger

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// Counters is the lighter check for writers that only ever add to the
// wanted and bought counters of items (the benchmark's): each writer is a
// replica with its own clock, its edits land in its own part of each item
// (its slot, crdt.List.Contributions), which no other replica writes, so a
// record of increments per list, item and replica bounds what each part of
// the final state must hold. Recording an increment costs a map update, not
// a merge, so it stays off a load generator's hot path. It is only sound
// without removes, sets or decreases: those cancel parts of other replicas,
// and then only the lattice check (Ledger) applies.

// Edit is a change of one replica's part of one item: increments of its
// wanted and bought counters. It is what a writer records when it pushes
// (Attempt) and when the push is acknowledged (Ack).
type Edit struct {
	List    uuid.UUID
	Item    string    // the item's normalised key (crdt.Normalize)
	Replica uuid.UUID // the writer's replica: its clock's crdt.Clock.Replica
	Wanted  int64     // added to wanted
	Bought  int64     // added to bought
}

// Counts are the wanted and bought counters of one replica's part of an
// item.
type Counts struct{ Wanted, Bought int64 }

func (c *Counts) add(o Counts) { c.Wanted += o.Wanted; c.Bought += o.Bought }

// part names one replica's part of one item of a list.
type part struct {
	item    string
	replica uuid.UUID
}

func comparePart(a, b part) int {
	if c := cmp.Compare(a.item, b.item); c != 0 {
		return c
	}
	return slices.Compare(a.replica[:], b.replica[:])
}

// tally is what one replica sent for one item and what of it was
// acknowledged.
type tally struct{ attempted, acked Counts }

// Counters records, per list, item and replica, the increments of the wanted
// and bought counters that were pushed (attempted) and that the cluster
// acknowledged. In the final read, each replica's part of an item must
// show at least what that replica had acknowledged (else a write was lost)
// and at most what it attempted (else the state holds something it never
// wrote). Checking per replica matters on a shared list: summed over its
// writers, one writer's lost acknowledged edit can be balanced by another
// writer's unacknowledged edit that did land. The zero Counters is not
// usable; use NewCounters. Counters are not safe for concurrent use while
// written: each writer keeps its own and they are merged with Add. Check
// and Lists only read, and may run concurrently with each other.
type Counters struct {
	lists map[uuid.UUID]map[part]*tally
}

// NewCounters returns an empty record.
func NewCounters() *Counters { return &Counters{lists: map[uuid.UUID]map[part]*tally{}} }

func (l *Counters) tally(list uuid.UUID, p part) *tally {
	parts := l.lists[list]
	if parts == nil {
		parts = map[part]*tally{}
		l.lists[list] = parts
	}
	t := parts[p]
	if t == nil {
		t = &tally{}
		parts[p] = t
	}
	return t
}

// Attempt records an edit about to be pushed.
func (l *Counters) Attempt(e Edit) {
	l.tally(e.List, part{e.Item, e.Replica}).attempted.add(Counts{e.Wanted, e.Bought})
}

// Ack records an edit the cluster acknowledged.
func (l *Counters) Ack(e Edit) {
	l.tally(e.List, part{e.Item, e.Replica}).acked.add(Counts{e.Wanted, e.Bought})
}

// edits returns every replica's part of every present item of s as edits.
func edits(s *crdt.List) []Edit {
	var out []Edit
	for _, it := range s.Items() {
		for _, c := range s.Contributions(it.Key) {
			out = append(out, Edit{List: s.ID(), Item: it.Key, Replica: c.Replica, Wanted: c.Wanted, Bought: c.Bought})
		}
	}
	return out
}

// AttemptList records every replica's part of every item of a whole list
// state about to be pushed, at its current value.
func (l *Counters) AttemptList(s *crdt.List) {
	for _, e := range edits(s) {
		l.Attempt(e)
	}
}

// AckList records every replica's part of every item of a whole list state
// as acknowledged.
func (l *Counters) AckList(s *crdt.List) {
	for _, e := range edits(s) {
		l.Ack(e)
	}
}

// Add merges o into l.
func (l *Counters) Add(o *Counters) {
	for list, parts := range o.lists {
		for p, t := range parts {
			mine := l.tally(list, p)
			mine.attempted.add(t.attempted)
			mine.acked.add(t.acked)
		}
	}
}

// Lists returns the IDs of every list recorded, sorted.
func (l *Counters) Lists() []uuid.UUID {
	return slices.SortedFunc(maps.Keys(l.lists), func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
}

// CounterVerdict is the outcome of checking final states against Counters.
type CounterVerdict struct {
	// Acknowledged counts the acknowledged increments checked: each is one
	// edit (an add of 1 or a buy of 1; a list created with K items counts
	// as K, plus its bought ones).
	Acknowledged int64
	// Lost counts acknowledged increments missing from the final state:
	// summed over every replica's part of every item, each part counted
	// on its own, so one replica's surplus never makes up for another's
	// loss.
	Lost int64
	// Phantom counts increments in the final state beyond what their
	// replica ever pushed: corruption, as bad as a loss.
	Phantom int64
	// Lists is how many lists were checked; Damaged how many of them lost
	// or invented something; Missing how many had acknowledged writes and
	// no state at all.
	Lists, Damaged, Missing int
	// Failures names every replica's part of an item that lost or
	// invented something, ordered by list (as checked), item and replica.
	Failures []CounterFailure
}

// CounterFailure is one replica's part of one item that the final state does not
// account for: below what the replica had acknowledged (Lost > 0), above
// what it attempted (Phantom > 0), or both (one counter each).
type CounterFailure struct {
	List    uuid.UUID
	Item    string    // normalised key
	Replica uuid.UUID // whose part
	// Stored is the replica's contribution in the final state (zero when
	// the item or the list is absent); Acknowledged and Attempted are the
	// recorded bounds for it.
	Stored, Acknowledged, Attempted Counts
	Lost, Phantom                   int64
}

// String names the failure and its figures on one line.
func (f CounterFailure) String() string {
	what := fmt.Sprintf("%d lost", f.Lost)
	switch {
	case f.Lost == 0:
		what = fmt.Sprintf("%d never written", f.Phantom)
	case f.Phantom > 0:
		what += fmt.Sprintf(", %d never written", f.Phantom)
	}
	return fmt.Sprintf("list %s, item %q, replica %s: stored wanted %d bought %d, acknowledged wanted %d bought %d, attempted wanted %d bought %d: %s",
		f.List, f.Item, f.Replica, f.Stored.Wanted, f.Stored.Bought, f.Acknowledged.Wanted, f.Acknowledged.Bought,
		f.Attempted.Wanted, f.Attempted.Bought, what)
}

// OK reports whether nothing was lost or invented.
func (v CounterVerdict) OK() bool { return v.Lost == 0 && v.Phantom == 0 }

// Add merges o into v.
func (v *CounterVerdict) Add(o CounterVerdict) {
	v.Acknowledged += o.Acknowledged
	v.Lost += o.Lost
	v.Phantom += o.Phantom
	v.Lists += o.Lists
	v.Damaged += o.Damaged
	v.Missing += o.Missing
	v.Failures = append(v.Failures, o.Failures...)
}

// String states the verification outcome in one line; Named lists the
// failures behind it.
func (v CounterVerdict) String() string {
	s := fmt.Sprintf("verified %d lists by quorum read: %d acknowledged edits, %d lost", v.Lists, v.Acknowledged, v.Lost)
	if v.OK() {
		return s + ": OK"
	}
	return fmt.Sprintf("%s, %d never written, in %d lists (%d missing entirely): DATA LOST OR CORRUPTED", s, v.Phantom, v.Damaged, v.Missing)
}

// Named returns one line per failure (CounterFailure.String), at most limit of
// them; when there are more, a last line says how many were left out.
func (v CounterVerdict) Named(limit int) []string { return named(v.Failures, limit) }

// Check compares one list's final state (nil when the read found nothing)
// with what the record says each replica acknowledged and attempted for
// it: for every item and replica, acknowledged ≤ that replica's stored
// contribution ≤ attempted, counter by counter. A part of the state that
// no replica recorded is held to zero.
func (l *Counters) Check(list uuid.UUID, final *crdt.List) CounterVerdict {
	v := CounterVerdict{Lists: 1}
	stored := map[part]Counts{}
	if final != nil {
		for _, it := range final.Items() {
			for _, c := range final.Contributions(it.Key) {
				stored[part{it.Key, c.Replica}] = Counts{c.Wanted, c.Bought}
			}
		}
	}
	recorded := l.lists[list]
	parts := slices.Collect(maps.Keys(recorded))
	for p := range stored {
		if _, ok := recorded[p]; !ok {
			parts = append(parts, p)
		}
	}
	slices.SortFunc(parts, comparePart)
	for _, p := range parts {
		var t tally
		if r := recorded[p]; r != nil {
			t = *r
		}
		got := stored[p]
		v.Acknowledged += t.acked.Wanted + t.acked.Bought
		lost := max(0, t.acked.Wanted-got.Wanted) + max(0, t.acked.Bought-got.Bought)
		phantom := max(0, got.Wanted-t.attempted.Wanted) + max(0, got.Bought-t.attempted.Bought)
		if lost == 0 && phantom == 0 {
			continue
		}
		v.Lost += lost
		v.Phantom += phantom
		v.Failures = append(v.Failures, CounterFailure{List: list, Item: p.item, Replica: p.replica,
			Stored: got, Acknowledged: t.acked, Attempted: t.attempted, Lost: lost, Phantom: phantom})
	}
	if !v.OK() {
		v.Damaged = 1
	}
	if final == nil && v.Acknowledged > 0 {
		v.Missing = 1
	}
	return v
}
