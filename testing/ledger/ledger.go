package ledger

import (
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// record is one writer's record of one list.
type record struct {
	acked, attempted *crdt.List // joins of the deltas acknowledged, sent
	acks, attempts   int64      // how many
}

// Ledger records, per writer and list, the join of every delta the writer
// sent (Attempted) and of every delta the cluster acknowledged (Acked),
// and checks a stored state against them (Check). Writers are named by
// the caller ("writer 3", with its replica); the name is how a failure
// says whose acknowledged edit is missing.
//
// The zero Ledger is not usable; use New. A Ledger is not safe for
// concurrent use while it is written: each writer keeps its own and they
// are merged with Add. Check, Bounds, Lists and Writers only read, and may
// run concurrently with each other.
type Ledger struct {
	writers map[string]map[uuid.UUID]*record
}

// New returns an empty ledger.
func New() *Ledger { return &Ledger{writers: map[string]map[uuid.UUID]*record{}} }

func (l *Ledger) record(writer string, list uuid.UUID) *record {
	lists := l.writers[writer]
	if lists == nil {
		lists = map[uuid.UUID]*record{}
		l.writers[writer] = lists
	}
	r := lists[list]
	if r == nil {
		r = &record{acked: crdt.Empty(list), attempted: crdt.Empty(list)}
		lists[list] = r
	}
	return r
}

// join merges src into dst, which have the same list ID by construction.
func join(dst, src *crdt.List) {
	if err := dst.Merge(src); err != nil {
		panic(fmt.Sprintf("ledger: %v", err)) // records are keyed by list ID
	}
}

// Attempt records that writer is about to push delta: it is joined into
// the writer's Attempted state of delta's list. Attempt before sending, so
// that the record covers the push whatever its outcome.
func (l *Ledger) Attempt(writer string, delta *crdt.List) {
	r := l.record(writer, delta.ID())
	r.attempts++
	join(r.attempted, delta)
}

// Ack records that the cluster acknowledged writer's push of delta: it is
// joined into the writer's Acked state (and its Attempted state, since
// what was acknowledged was sent).
func (l *Ledger) Ack(writer string, delta *crdt.List) {
	r := l.record(writer, delta.ID())
	r.acks++
	join(r.acked, delta)
	join(r.attempted, delta)
}

// Add merges o into l: per writer and list, the states are joined and the
// counts summed.
func (l *Ledger) Add(o *Ledger) {
	for w, lists := range o.writers {
		for id, or := range lists {
			r := l.record(w, id)
			join(r.acked, or.acked)
			join(r.attempted, or.attempted)
			r.acks += or.acks
			r.attempts += or.attempts
		}
	}
}

// Lists returns the IDs of every list in the ledger, sorted.
func (l *Ledger) Lists() []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	for _, lists := range l.writers {
		for id := range lists {
			seen[id] = true
		}
	}
	return slices.SortedFunc(maps.Keys(seen), func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
}

// Writers returns the names of every writer in the ledger, sorted.
func (l *Ledger) Writers() []string { return slices.Sorted(maps.Keys(l.writers)) }

// Bounds returns, for list, A (the join of every writer's Acked state) and
// T (the join of every writer's Attempted state), as new lists; both are
// empty for a list nobody recorded.
func (l *Ledger) Bounds(list uuid.UUID) (acked, attempted *crdt.List) {
	acked, attempted = crdt.Empty(list), crdt.Empty(list)
	for _, lists := range l.writers {
		if r := lists[list]; r != nil {
			join(acked, r.acked)
			join(attempted, r.attempted)
		}
	}
	return acked, attempted
}

// Counts returns how many pushes of list the writers attempted and how
// many of them the cluster acknowledged.
func (l *Ledger) Counts(list uuid.UUID) (attempts, acks int64) {
	for _, lists := range l.writers {
		if r := lists[list]; r != nil {
			attempts += r.attempts
			acks += r.acks
		}
	}
	return attempts, acks
}
