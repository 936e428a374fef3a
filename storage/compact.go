package storage

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"

	"shoplist/crdt"
)

// Compaction in the store.
//
// crdt/compact.go states the rules: a list's floor (kept in its name part)
// makes it forget what removes at or before the floor cancelled, and a
// list keeps at most crdt.MaxTombstones removed items. A store applies them
// at every write, so what it holds is always what crdt.Merge would make of
// it, and its parts assemble into a state crdt.Decode accepts:
//
//   - An item part is merged at the stored floor (crdt.List.NormaliseAt):
//     what the floor forgets is not written, and a part with nothing left is
//     deleted.
//   - What arrives is merged as it is. A store cannot tell an edit it
//     forgot from one it never had (a server new to the list receives old
//     items it must keep), so dropping what a replica offline for longer
//     than the horizon still holds is the client's part: it merges the
//     cluster's state with crdt.List.MergeComplete before it pushes.
//   - A write that arrives with a later floor, or that leaves an item
//     removed, rewrites the whole list: it is loaded, merged with what
//     arrived (crdt applies both rules, the bound included), and, with
//     TombstoneHorizon set, compacted at the horizon's floor if that
//     forgets anything; the parts that changed are written and those
//     forgotten deleted, in one batch.
//
// So a list forgets its old removes at its next remove after the horizon
// (until then it keeps at most crdt.MaxTombstones), and the whole-list
// path costs a read of the list per remove; adds, buys and edits of
// present items take the per-part path.

// horizonSteps is how many steps of the horizon's floor a horizon holds.
const horizonSteps = 8

// errWholeList tells mergeLocked that a write must take the whole-list path.
var errWholeList = errors.New("storage: write needs the whole list")

// horizonFloor returns the floor the store's horizon sets now: the time
// TombstoneHorizon ago, rounded down to a step of an eighth of the horizon
// (11¼ days at the default of 90), so that the replicas of a list, each
// compacting at its own writes, mostly agree on the floor and anti-entropy
// does not carry floors back and forth; a remove is kept for at least the
// horizon and at most a step more. Zero without a horizon.
func (s *Store) horizonFloor() crdt.Timestamp {
	if s.horizon <= 0 {
		return crdt.Timestamp{}
	}
	step := max(s.horizon/horizonSteps, time.Millisecond)
	return crdt.Timestamp{Wall: s.now().Add(-s.horizon).UTC().Truncate(step).UnixMilli()}
}

// storedFloorLocked returns the floor in the stored name part of list k
// (zero if there is none). A corrupt name part fails with a *corruptFound,
// which mergeLocked handles. The caller holds k's stripe lock.
func (s *Store) storedFloorLocked(k listKey) (crdt.Timestamp, error) {
	if s.index.floorZero(k) {
		// Known from an earlier read or write: spare the point read, which
		// misses every memtable for a name part written long ago and was
		// an eighth of a busy server's CPU.
		return crdt.Timestamp{}, nil
	}
	floor, err := s.readFloorLocked(k)
	if err == nil && floor.IsZero() {
		s.index.knowFloorZero(k)
	}
	return floor, err
}

// readFloorLocked reads the floor in the stored name part of list k, as
// storedFloorLocked, from the engine.
func (s *Store) readFloorLocked(k listKey) (crdt.Timestamp, error) {
	key := k.nameKey()
	raw, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return crdt.Timestamp{}, nil
	} else if err != nil {
		return crdt.Timestamp{}, fmt.Errorf("storage: reading %s: %w", describeKey(key), err)
	}
	defer closer.Close()
	if payload, err := decodeValue(raw); err == nil {
		if floor, ok := namePartFloor(k, payload); ok {
			return floor, nil // verified and current: no need to decode it
		}
	}
	head, _, err := decodePart(partKey{list: k, name: true}, raw)
	if err != nil {
		return crdt.Timestamp{}, &corruptFound{[]badValue{newBad(key, raw, err)}}
	}
	return head.Floor(), nil
}

// namePartFloor reads the floor of list k's name part from its payload
// without decoding it: [6, 2, bin16 id, name, nameAt, floor, []], or
// [7, ..., floor, deletion, []]. ok is false unless the payload has exactly
// that shape in the current format (one of an earlier format is decoded
// instead).
func namePartFloor(k listKey, payload []byte) (crdt.Timestamp, bool) {
	id := k.id()
	prefix := append([]byte{listArray, crdt.FormatVersion, 0xc4, 16}, id[:]...)
	if len(payload) < len(prefix)+1 || !bytes.Equal(payload[1:len(prefix)], prefix[1:]) || payload[len(payload)-1] != 0x90 {
		return crdt.Timestamp{}, false
	}
	b := payload[len(prefix) : len(payload)-1]
	if !namePartShape(payload[0], b) {
		return crdt.Timestamp{}, false
	}
	n, h := strHeader(b)
	floor := b[h+n+2+28:]
	if floor[0] == 0xc0 { // nil: no floor
		return crdt.Timestamp{}, true
	}
	t, ok := crdt.TimestampFromBinary(floor[2 : 2+28])
	return t, ok && !t.IsZero()
}

// rewriteLocked merges in, a state of list k, into the whole stored list at
// the later of its floor and the horizon's, and commits the parts that
// changed without syncing. extra is as for mergeLocked. Corrupt stored
// values fail it with a *corruptFound. The caller holds k's stripe lock.
func (s *Store) rewriteLocked(k listKey, in *crdt.List, extra func(*pebble.Batch) error) (ticket uint64, changed bool, err error) {
	cur := crdt.Empty(k.id())
	stored := map[string][]byte{} // part key → payload
	var bad []badValue
	err = s.scanList(k, func(key, raw []byte) {
		part, payload, err := checkValue(key, raw)
		if err != nil {
			bad = append(bad, newBad(key, raw, err))
			return
		}
		stored[string(key)] = bytes.Clone(payload)
		if len(bad) == 0 {
			_ = cur.Merge(part) // same list ID: checkValue verified it
		}
	})
	if err != nil {
		return 0, false, err
	}
	if len(bad) > 0 {
		return 0, false, &corruptFound{bad}
	}
	if err := cur.Merge(in); err != nil {
		return 0, false, fmt.Errorf("storage: merging into list %s: %w", k.id(), err)
	}
	if hf := s.horizonFloor(); hf.After(cur.Floor()) {
		// The horizon's floor is written only if it forgets something, so
		// lists without old removes keep no floor.
		if trial := cur.Clone(); trial.Compact(hf) > 0 {
			cur = trial
		}
	}
	if cur.Len() > crdt.MaxEntries {
		return 0, false, fmt.Errorf("storage: list %s: %w: more than %d items, removed ones included, after the merge", k.id(), crdt.ErrTooLarge, crdt.MaxEntries)
	}

	b := s.db.NewBatch()
	defer b.Close()
	parts := cur.Split()
	if head := parts[0]; head.HeadEmpty() {
		parts = parts[1:]
	}
	for _, p := range parts {
		_, key := partOf(k, p)
		enc := p.Encode()
		old, had := stored[string(key)]
		delete(stored, string(key))
		if had && bytes.Equal(old, enc) {
			continue
		}
		if err := b.Set(key, appendValue(make([]byte, 0, valueHeaderLen+len(enc)), enc), nil); err != nil {
			return 0, false, fmt.Errorf("storage: writing %s: %w", describeKey(key), err)
		}
	}
	for key := range stored { // forgotten
		if err := b.Delete([]byte(key), nil); err != nil {
			return 0, false, fmt.Errorf("storage: deleting %s: %w", describeKey([]byte(key)), err)
		}
	}
	return s.commitLocked(k, b, extra, nil, false)
}
