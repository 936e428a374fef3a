package ledger

import (
	"fmt"

	"github.com/google/uuid"

	"shoplist/crdt"
)

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

// String states the verification outcome in one line.
func (v Verdict) String() string {
	s := fmt.Sprintf("verified %d lists by quorum read: %d acknowledged edits, %d lost", v.Lists, v.Acknowledged, v.Lost)
	if v.OK() {
		return s + ": OK"
	}
	return fmt.Sprintf("%s, %d never written, in %d lists (%d missing entirely): DATA LOST OR CORRUPTED", s, v.Phantom, v.Damaged, v.Missing)
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
