package ledger

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// wireRecord is one writer's record of one list as MarshalBinary writes
// it: the lists' canonical encodings and the counts.
type wireRecord struct {
	Writer    string    `json:"writer"`
	List      uuid.UUID `json:"list"`
	Acked     []byte    `json:"acked"`
	Attempted []byte    `json:"attempted"`
	Acks      int64     `json:"acks"`
	Attempts  int64     `json:"attempts"`
}

// MarshalBinary encodes the ledger, so that writers in another process
// can hand theirs over; UnmarshalBinary decodes it. Records come out
// sorted by writer and list, so equal ledgers encode equally.
func (l *Ledger) MarshalBinary() ([]byte, error) {
	var out []wireRecord
	for _, w := range l.Writers() {
		lists := l.writers[w]
		ids := slices.SortedFunc(maps.Keys(lists), func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		for _, id := range ids {
			r := lists[id]
			out = append(out, wireRecord{Writer: w, List: id, Acked: r.acked.Encode(), Attempted: r.attempted.Encode(),
				Acks: r.acks, Attempts: r.attempts})
		}
	}
	return json.Marshal(out)
}

// UnmarshalBinary replaces the ledger's records with those data holds
// (MarshalBinary's encoding). A record whose states do not decode, or
// are of another list than it names, fails it.
func (l *Ledger) UnmarshalBinary(data []byte) error {
	var in []wireRecord
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("ledger: decoding: %w", err)
	}
	fresh := New()
	for _, w := range in {
		acked, err := crdt.Decode(w.Acked)
		if err != nil {
			return fmt.Errorf("ledger: %s's acknowledged state of %s: %w", w.Writer, w.List, err)
		}
		attempted, err := crdt.Decode(w.Attempted)
		if err != nil {
			return fmt.Errorf("ledger: %s's attempted state of %s: %w", w.Writer, w.List, err)
		}
		if acked.ID() != w.List || attempted.ID() != w.List {
			return fmt.Errorf("ledger: %s's record of %s holds states of another list", w.Writer, w.List)
		}
		r := fresh.record(w.Writer, w.List)
		join(r.acked, acked)
		join(r.attempted, attempted)
		r.acks += w.Acks
		r.attempts += w.Attempts
	}
	l.writers = fresh.writers
	return nil
}
