package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"

	"shoplist/crdt"
)

// SaveMerge merges l into the stored state of its list and returns once the
// result is durable. changed reports whether the stored state grew; when it
// did not, SaveMerge still waits until the state it found is durable (it may
// have been written by a concurrent SaveMerge that has not yet synced), so a
// nil error always means "l is contained in what a crash would leave".
//
// l may be a full state or a delta: it is cut into parts (crdt.List.Split),
// and each part is merged into the stored part under the same key, so a
// one-item delta costs one read and at most one write of one small value. l
// is not modified.
//
// SaveMerge fails with an error matching ErrCorrupt if a part it reads is
// corrupt, or if the list is marked damaged (see Repair), unless the store
// heals the list (Options.SelfHeal, heal.go): it then drops the corrupt
// parts and merges l into what is left. It fails with crdt.ErrTooLarge if
// the merge would give the list more than crdt.MaxEntries items, removed
// ones included (more than crdt.Decode accepts). On error the list is
// unchanged (corrupt values are quarantined, though; see corrupt.go).
//
// Concurrency: the read-modify-write of a list runs under its stripe lock, so
// concurrent SaveMerges of one list never lose an update. The commit does not
// wait for the fsync under that lock; the wait happens after it is released,
// and is shared with other writers (see syncer).
func (s *Store) SaveMerge(l *crdt.List) (changed bool, err error) {
	return s.saveMerge(l, nil)
}

// saveMerge is SaveMerge, and SaveMergeIf when admit is not nil: admit
// runs under the list's stripe lock before anything is read, and its
// error refuses the write.
//
// The commit and the wait are one operation for Close: a SaveMerge that
// has committed returns its own answer, never ErrClosed.
func (s *Store) saveMerge(l *crdt.List, admit func() error) (changed bool, err error) {
	if err := s.begin(); err != nil {
		return false, err
	}
	defer s.end()
	changed, p, err := s.mergeUnsynced(l, admit)
	if err != nil {
		return false, err
	}
	if err := s.sync.wait(uint64(p)); err != nil {
		return false, err
	}
	return changed, nil
}

// mergeUnsynced is saveMerge up to the commit: it returns the Syncpoint to
// wait for before the merge may be called durable. The caller has begun
// an operation (begin).
func (s *Store) mergeUnsynced(l *crdt.List, admit func() error) (changed bool, p Syncpoint, err error) {
	id := l.ID()
	if id.Version() != 4 || id.Variant() != uuid.RFC4122 {
		// crdt.Decode would refuse to read such a list back.
		return false, 0, fmt.Errorf("storage: list ID %s is not a version 4 UUID", id)
	}
	parts := l.Split()
	if parts[0].HeadEmpty() {
		parts = parts[1:] // no name, deletion or floor to merge
	}
	k := keyOf(id)
	st := s.stripeOf(k)
	st.mu.Lock()
	var ticket uint64
	if admit != nil {
		err = admit()
	}
	if err == nil {
		ticket, changed, err = s.mergeLocked(k, parts, nil)
	}
	st.mu.Unlock()
	if err != nil {
		return false, 0, err
	}
	return changed, Syncpoint(ticket), nil
}

// mergeLocked merges parts (the name part first, if present, then item parts
// in key order) into list k and commits the result without syncing. It
// returns the ticket to wait for. extra, if not nil, adds writes of its own
// to the same batch (a hint record), so they commit atomically with the
// merge; changed then also covers them. The caller holds k's stripe lock.
//
// A list marked damaged is refused, or healed first by a self-healing
// store; corrupt values met on the way are handled by corruptLocked, and
// the merge starts over once if they were healed (heal.go).
func (s *Store) mergeLocked(k listKey, parts []*crdt.List, extra func(*pebble.Batch) error) (ticket uint64, changed bool, err error) {
	if s.isDamagedLocked(k) {
		if !s.selfHeal {
			return 0, false, fmt.Errorf("%w: list %s has quarantined corrupt parts and refuses writes until an operator repairs it (Repair or Discard; server repair)", ErrCorrupt, k.id())
		}
		if err := s.healLocked(k); err != nil {
			return 0, false, err
		}
	}
	for retried := false; ; retried = true {
		ticket, changed, err = s.mergeOnceLocked(k, parts, extra)
		var found *corruptFound
		switch {
		case !errors.As(err, &found):
			return ticket, changed, err
		case retried:
			return 0, false, s.markDamagedLocked(k, found.bad) // corrupt again after a heal
		}
		if err := s.corruptLocked(k, found.bad); err != nil {
			return 0, false, err
		}
	}
}

// mergeOnceLocked is one attempt of mergeLocked; corrupt stored values fail
// it with a *corruptFound, before anything is committed.
//
// Each part is merged into its stored part under the list's floor
// (compact.go); a write that raises the floor or removes an item takes the
// whole-list path instead.
func (s *Store) mergeOnceLocked(k listKey, parts []*crdt.List, extra func(*pebble.Batch) error) (ticket uint64, changed bool, err error) {
	floor, err := s.storedFloorLocked(k)
	if err != nil {
		return 0, false, err
	}
	whole := func() (uint64, bool, error) {
		in := crdt.Empty(k.id())
		for _, p := range parts {
			_ = in.Merge(p) // parts of one list
		}
		return s.rewriteLocked(k, in, extra)
	}
	if len(parts) > 0 && parts[0].Floor().After(floor) {
		return whole()
	}
	b := s.db.NewBatch()
	defer b.Close()
	var bad []badValue
	added := 0 // items not stored before
	writes := make([]partWrite, 0, len(parts))
	for _, p := range parts {
		pk, key := partOf(k, p)
		raw, closer, err := s.db.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			if !pk.name {
				if p.Tombstones() > 0 {
					return whole()
				}
				if !floor.IsZero() {
					if p = p.Clone(); p.NormaliseAt(floor) > 0 && p.Len() == 0 {
						continue // nothing of it is left at the floor
					}
				}
				added++
			}
			v := appendValue(nil, p.Encode())
			if err := b.Set(key, v, nil); err != nil {
				return 0, false, fmt.Errorf("storage: writing %s: %w", describeKey(key), err)
			}
			writes = append(writes, partWrite{pk, v[valueHeaderLen:]})
			continue
		} else if err != nil {
			return 0, false, fmt.Errorf("storage: reading %s: %w", describeKey(key), err)
		}
		merged, err := mergePart(pk, raw, p, floor)
		var corrupt *corruptPartError
		if errors.As(err, &corrupt) {
			// Keep going, to quarantine every corrupt part met at once.
			bad, err = append(bad, newBad(key, raw, corrupt.cause)), nil
		}
		closer.Close() // raw is invalid from here on
		switch {
		case errors.Is(err, errWholeList):
			return whole()
		case err != nil:
			return 0, false, err
		case merged == nil:
		case len(merged) == 0:
			err = b.Delete(key, nil)
			writes = append(writes, partWrite{pk, nil})
		default:
			err = b.Set(key, merged, nil)
			writes = append(writes, partWrite{pk, merged[valueHeaderLen:]})
		}
		if err != nil {
			return 0, false, fmt.Errorf("storage: writing %s: %w", describeKey(key), err)
		}
	}
	if len(bad) > 0 {
		return 0, false, &corruptFound{bad}
	}
	if added > 0 {
		if err := s.checkItemLimit(k, added); err != nil {
			return 0, false, err
		}
	}
	return s.commitLocked(k, b, extra, writes, floor.IsZero())
}

// commitLocked adds extra's writes to b and commits it without syncing, if
// it holds anything, and returns the ticket to wait for. writes are the
// list's parts b stores, for the cache of encodings to splice in; nil
// drops the list's cached encoding instead. floorZero says that the list
// has no floor after the commit. The caller holds k's stripe lock.
func (s *Store) commitLocked(k listKey, b *pebble.Batch, extra func(*pebble.Batch) error, writes []partWrite, floorZero bool) (ticket uint64, changed bool, err error) {
	if extra != nil {
		if err := extra(b); err != nil {
			return 0, false, err
		}
	}
	if b.Empty() {
		return s.sync.current(), false, nil
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, false, fmt.Errorf("storage: committing list %s: %w", k.id(), err)
	}
	if writes != nil {
		s.encoded.refresh(k, writes)
	} else {
		s.encoded.invalidate(k)
	}
	s.index.touch(k, floorZero)
	return s.sync.ticket(), true, nil
}

// mergePart merges the incoming part p into the stored value raw of part pk
// at the list's floor (compact.go) and returns the framed merged value, nil
// if the stored value already contains p, or an empty value if nothing of
// the item is left. It fails with errWholeList if the merge leaves the item
// removed and it was not before. A stored value that does not verify is
// reported as a *corruptPartError.
func mergePart(pk partKey, raw []byte, p *crdt.List, floor crdt.Timestamp) ([]byte, error) {
	cur, payload, err := decodePart(pk, raw)
	if err != nil {
		return nil, &corruptPartError{err}
	}
	removed := cur.Tombstones()
	if err := cur.Merge(p); err != nil {
		return nil, fmt.Errorf("storage: merging into list %s: %w", pk.list.id(), err)
	}
	if !pk.name {
		cur.NormaliseAt(floor)
		switch {
		case cur.Len() == 0:
			return []byte{}, nil
		case cur.Tombstones() > removed:
			return nil, errWholeList
		}
	}
	enc := cur.Encode()
	if bytes.Equal(enc, payload) {
		return nil, nil // canonical encodings: equal bytes, equal states
	}
	return appendValue(make([]byte, 0, valueHeaderLen+len(enc)), enc), nil
}

// corruptPartError tells a stored value that does not verify (cause says
// why) from a failure of the merge itself.
type corruptPartError struct{ cause error }

func (e *corruptPartError) Error() string { return e.cause.Error() }
func (e *corruptPartError) Unwrap() error { return e.cause }

// checkItemLimit fails if list k, which is about to gain added items, would
// then hold more than crdt.MaxEntries, removed ones included: a state
// crdt.Decode refuses, so no replica could read the list back. It counts
// item keys, stopping at the limit, so it reads at most crdt.MaxEntries
// keys; SaveMerge calls it only when an item is new to the store.
func (s *Store) checkItemLimit(k listKey, added int) error {
	limit := crdt.MaxEntries - added
	if limit < 0 {
		return fmt.Errorf("storage: list %s: %w: %d new items", k.id(), crdt.ErrTooLarge, added)
	}
	lo := append(k[:], partItem)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: k.end()})
	if err != nil {
		return fmt.Errorf("storage: counting items of list %s: %w", k.id(), err)
	}
	n := 0
	for valid := it.First(); valid && n <= limit; valid = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: counting items of list %s: %w", k.id(), err)
	}
	if n > limit {
		return fmt.Errorf("storage: list %s: %w: more than %d items, removed ones included, after the merge", k.id(), crdt.ErrTooLarge, crdt.MaxEntries)
	}
	return nil
}

// partOf returns which part of list k the Split part p is, and its key.
func partOf(k listKey, p *crdt.List) (partKey, []byte) {
	if keys := p.ItemKeys(); len(keys) > 0 {
		return partKey{list: k, item: keys[0]}, k.itemKey(keys[0])
	}
	return partKey{list: k, name: true}, k.nameKey()
}
