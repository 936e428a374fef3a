package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"
)

// QuarantineEntry is one quarantined value.
type QuarantineEntry struct {
	List   uuid.UUID // the list the value belonged to
	Key    []byte    // the value's original key
	Part   string    // the original key, described for people
	Time   time.Time // when it was quarantined
	Reason string    // why it was found corrupt
	Value  []byte    // the value exactly as it was found
}

// Quarantined returns every quarantined value, ordered by original key and
// then time.
func (s *Store) Quarantined() ([]QuarantineEntry, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	var out []QuarantineEntry
	err := s.scanQuarantine(nil, nil, func(e QuarantineEntry) { out = append(out, e) })
	return out, err
}

// Damaged returns the lists marked damaged, in ring order: they hold
// corrupt values and refuse writes until Repair or Discard.
func (s *Store) Damaged() ([]uuid.UUID, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixDamaged}, UpperBound: []byte{prefixDamaged + 1}})
	if err != nil {
		return nil, fmt.Errorf("storage: reading damaged markers: %w", err)
	}
	var out []uuid.UUID
	for it.First(); it.Valid(); it.Next() {
		if len(it.Key()) == listKeyLen {
			out = append(out, uuid.UUID(it.Key()[9:listKeyLen]))
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("storage: reading damaged markers: %w", err)
	}
	return out, nil
}

// ClearQuarantine deletes the quarantined copies of the list's values, once
// an operator has inspected them, and returns how many it deleted. It does
// not touch the list itself.
func (s *Store) ClearQuarantine(id uuid.UUID) (removed int, err error) {
	k, release, err := s.lockList(id)
	if err != nil {
		return 0, err
	}
	defer release()
	b := s.db.NewBatch()
	defer b.Close()
	var delErr error
	err = s.scanQuarantine(nil, k[:], func(e QuarantineEntry) {
		if delErr == nil {
			delErr = b.Delete(quarantineKey(e.Key, e.Time), nil)
			removed++
		}
	})
	if err == nil {
		err = delErr
	}
	if err == nil && !b.Empty() {
		err = b.Commit(pebble.Sync)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: clearing the quarantine of list %s: %w", id, err)
	}
	return removed, nil
}

// Repair is the operator's remedy for a damaged list: it quarantines every
// corrupt part of the list (checking all of them, not only those already
// found), deletes them, keeps the parts that verify, and clears the damaged
// mark, durably. A self-healing store does the same by itself for damaged
// bytes (heal.go); Repair drops any corrupt part. The list then accepts merges again, and a merge of the full
// state from another replica restores what was dropped. It returns the
// number of parts dropped; repairing a sound list drops nothing.
func (s *Store) Repair(id uuid.UUID) (dropped int, err error) {
	return s.dropCorrupt(id, false)
}

// Discard is the operator's remedy when a damaged list should be rebuilt
// from scratch: like Repair it quarantines every corrupt part, but then
// deletes the whole list, durably. Unlike Delete it keeps copies of the
// corrupt parts. It returns the number of corrupt parts found.
func (s *Store) Discard(id uuid.UUID) (corrupt int, err error) {
	return s.dropCorrupt(id, true)
}

// dropCorrupt implements Repair and, with all, Discard.
func (s *Store) dropCorrupt(id uuid.UUID, all bool) (int, error) {
	k, release, err := s.lockList(id)
	if err != nil {
		return 0, err
	}
	defer release()
	bad, good, err := s.findCorruptLocked(k, all)
	if err != nil {
		return 0, err
	}
	if err := s.dropLocked(k, bad, good); err != nil {
		return 0, fmt.Errorf("storage: repairing list %s: %w", id, err)
	}
	if len(bad) > 0 {
		s.log.Warn("storage: dropped corrupt parts", "list", id, "count", len(bad), "whole_list", all)
	}
	return len(bad), nil
}

// findCorruptLocked reads every value of list k and returns those that
// fail to verify and, if withGood is set, the keys of the others. The
// caller holds k's stripe lock, so what it finds is what is stored.
func (s *Store) findCorruptLocked(k listKey, withGood bool) (bad []badValue, good [][]byte, err error) {
	err = s.scanList(k, func(key, raw []byte) {
		if _, _, err := checkValue(key, raw); err != nil {
			bad = append(bad, newBad(key, raw, err))
		} else if withGood {
			good = append(good, bytes.Clone(key))
		}
	})
	return bad, good, err
}

// dropLocked quarantines the bad values of list k, deletes those still
// stored as found and the keys more, and clears the list's damaged mark,
// all in one synced batch; then it brings the cache of encodings and the
// index in line. The caller holds k's stripe lock.
func (s *Store) dropLocked(k listKey, bad []badValue, more [][]byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	current, _, err := s.addQuarantine(b, bad)
	if err != nil {
		return err
	}
	for _, v := range current {
		more = append(more, v.key)
	}
	for _, key := range more {
		if err := b.Delete(key, nil); err != nil {
			return fmt.Errorf("storage: dropping %s: %w", describeKey(key), err)
		}
	}
	if s.isDamagedLocked(k) {
		if err := b.Delete(k.damagedKey(), nil); err != nil {
			return fmt.Errorf("storage: clearing the damaged mark of list %s: %w", k.id(), err)
		}
	}
	if !b.Empty() {
		if err := b.Commit(pebble.Sync); err != nil {
			return err
		}
	}
	s.encoded.invalidate(k)
	s.setDamagedLocked(k, false)
	return s.reindexLocked(k)
}

// quarantineKey returns the quarantine key of a value of key found at t.
func quarantineKey(key []byte, t time.Time) []byte {
	q := make([]byte, 0, 1+len(key)+8)
	q = append(q, prefixQuarantine)
	q = append(q, key...)
	return binary.BigEndian.AppendUint64(q, uint64(t.UnixNano()))
}

// addQuarantine adds to b a quarantine entry for each bad value that is still
// stored as found and not yet quarantined. It returns the bad values still
// stored as found, and how many of those it added entries for. The caller
// holds the list's stripe lock.
func (s *Store) addQuarantine(b *pebble.Batch, bad []badValue) (current []badValue, added int, err error) {
	now := time.Now()
	for _, v := range bad {
		cur, closer, err := s.db.Get(v.key)
		if errors.Is(err, pebble.ErrNotFound) {
			continue // dropped since it was read
		} else if err != nil {
			return nil, 0, fmt.Errorf("storage: reading %s: %w", describeKey(v.key), err)
		}
		same := bytes.Equal(cur, v.raw)
		closer.Close()
		if !same {
			continue // changed since it was read; whoever reads it next judges it
		}
		current = append(current, v)
		dup := false
		err = s.scanQuarantine(v.key, nil, func(e QuarantineEntry) { dup = dup || bytes.Equal(e.Value, v.raw) })
		if err != nil {
			return nil, 0, err
		}
		if dup {
			continue
		}
		added++
		reason := v.err.Err.Error()
		val := binary.AppendUvarint(nil, uint64(len(reason)))
		val = append(append(val, reason...), v.raw...)
		if err := b.Set(quarantineKey(v.key, now), val, nil); err != nil {
			return nil, 0, fmt.Errorf("storage: quarantining %s: %w", describeKey(v.key), err)
		}
	}
	return current, added, nil
}

// markDamagedLocked quarantines the bad values of list k, marks the list
// damaged, durably, and returns the error describing the bad values. The
// caller holds k's stripe lock.
func (s *Store) markDamagedLocked(k listKey, bad []badValue) error {
	b := s.db.NewBatch()
	defer b.Close()
	current, added, err := s.addQuarantine(b, bad)
	n := len(current)
	if err == nil && n > 0 && !s.isDamagedLocked(k) {
		err = b.Set(k.damagedKey(), nil, nil)
	}
	if err == nil && !b.Empty() {
		err = b.Commit(pebble.Sync)
	}
	if err != nil {
		return fmt.Errorf("storage: quarantining corrupt values of list %s: %w (while handling: %w)", k.id(), err, badError(bad))
	}
	if n > 0 {
		s.setDamagedLocked(k, true)
		s.encoded.invalidate(k)
		s.index.touch(k, false) // its hash is forgotten: the list is no longer served
	}
	if added > 0 {
		s.log.Error("storage: corrupt values quarantined", "list", k.id(), "count", added, "err", badError(bad))
	}
	return badError(bad)
}

// scanQuarantine calls fn for each quarantine entry: of the original key key
// if it is not nil, else of the list whose prefix is list if it is not nil,
// else of every key.
func (s *Store) scanQuarantine(key, list []byte, fn func(QuarantineEntry)) error {
	lo, hi := []byte{prefixQuarantine}, []byte{prefixQuarantine + 1}
	switch {
	case key != nil:
		// Entries of key are 'q' | key | 8 time bytes; the range also holds
		// entries of longer keys that start with key, filtered out below.
		lo = append(lo, key...)
		hi = append(bytes.Clone(lo), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00)
	case list != nil:
		lo = append(lo, list...)
		hi = append([]byte{prefixQuarantine}, listKey(list).end()...)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("storage: reading the quarantine: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 1+listKeyLen+8 || (key != nil && len(k) != 1+len(key)+8) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("storage: reading the quarantine: %w", err)
		}
		orig := bytes.Clone(k[1 : len(k)-8])
		e := QuarantineEntry{
			List: uuid.UUID(orig[9:listKeyLen]),
			Key:  orig,
			Part: describeKey(orig),
			Time: time.Unix(0, int64(binary.BigEndian.Uint64(k[len(k)-8:]))),
		}
		if n, w := binary.Uvarint(v); w > 0 && n <= uint64(len(v)-w) {
			e.Reason, e.Value = string(v[w:w+int(n)]), bytes.Clone(v[w+int(n):])
		} else {
			e.Reason, e.Value = "(unreadable quarantine record)", bytes.Clone(v)
		}
		fn(e)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: reading the quarantine: %w", err)
	}
	return nil
}

// lockList marks an operation in progress on the open store and takes the
// list's stripe lock for the whole operation; release undoes both.
func (s *Store) lockList(id uuid.UUID) (k listKey, release func(), err error) {
	if err := s.begin(); err != nil {
		return listKey{}, nil, err
	}
	k = keyOf(id)
	st := s.stripeOf(k)
	st.mu.Lock()
	return k, func() { st.mu.Unlock(); s.end() }, nil
}
