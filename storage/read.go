package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"

	"shoplist/crdt"
)

// Load returns the stored state of the list: the merge of its parts, read
// from one consistent snapshot. The snapshot may include merges whose
// SaveMerge has not yet returned (and so is not yet durable); for a CRDT
// that is harmless, as whoever sent them still holds them. Load fails with
// ErrNotFound if nothing of the list is stored, and with an error matching
// ErrCorrupt (after quarantining the bad values) if any part fails to verify
// or decode, unless the store heals the list (Options.SelfHeal, heal.go):
// it then returns what is left of it, or ErrNotFound if nothing is.
func (s *Store) Load(id uuid.UUID) (*crdt.List, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	k := keyOf(id)
	for retried := false; ; retried = true {
		out, bad, err := s.loadOnce(k)
		if err != nil || len(bad) == 0 {
			return out, err
		}
		st := s.stripeOf(k)
		st.mu.Lock()
		if retried {
			err = s.markDamagedLocked(k, bad) // corrupt again after a heal: see heal.go
		} else {
			err = s.corruptLocked(k, bad)
		}
		st.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// loadOnce reads list k from one snapshot: its state, or the values that
// failed to verify.
func (s *Store) loadOnce(k listKey) (*crdt.List, []badValue, error) {
	out := crdt.Empty(k.id())
	found := false
	var bad []badValue
	var mergeErr error
	err := s.scanList(k, func(key, raw []byte) {
		found = true
		part, _, err := checkValue(key, raw)
		switch {
		case err != nil:
			bad = append(bad, newBad(key, raw, err))
		case len(bad) == 0 && mergeErr == nil:
			mergeErr = out.Merge(part)
		}
	})
	switch {
	case err != nil:
		return nil, nil, err
	case len(bad) > 0:
		return nil, bad, nil
	case mergeErr != nil:
		return nil, nil, fmt.Errorf("storage: loading list %s: %w", k.id(), mergeErr)
	case !found:
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, k.id())
	}
	return out, nil, nil
}

// Has reports whether anything of the list is stored.
func (s *Store) Has(id uuid.UUID) (bool, error) {
	if err := s.begin(); err != nil {
		return false, err
	}
	defer s.end()
	k := keyOf(id)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: k[:], UpperBound: k.end()})
	if err != nil {
		return false, fmt.Errorf("storage: looking up list %s: %w", id, err)
	}
	found := it.First()
	if err := it.Close(); err != nil {
		return false, fmt.Errorf("storage: looking up list %s: %w", id, err)
	}
	return found, nil
}

// Delete removes the list, durably. Deleting an absent list does nothing
// (but still waits until the absence is durable). Delete does not look at the
// values it deletes, so it also clears a damaged list without quarantining
// anything; an operator should prefer Discard.
func (s *Store) Delete(id uuid.UUID) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	k := keyOf(id)
	st := s.stripeOf(k)
	st.mu.Lock()
	ticket, err := s.deleteLocked(k)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	return s.sync.wait(ticket)
}

// deleteLocked deletes every key of list k with point deletes (lists are
// small, and point tombstones are cheaper for later reads than a range
// tombstone) and commits without syncing. It returns the ticket to wait for.
// The caller holds k's stripe lock.
func (s *Store) deleteLocked(k listKey) (uint64, error) {
	b := s.db.NewBatch()
	defer b.Close()
	err := s.addListDeletesLocked(b, k)
	if err == nil && b.Empty() {
		return s.sync.current(), nil
	}
	if err == nil {
		err = b.Commit(pebble.NoSync)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: deleting list %s: %w", k.id(), err)
	}
	s.encoded.invalidate(k)
	s.index.remove(k)
	s.setDamagedLocked(k, false)
	return s.sync.ticket(), nil
}

// addListDeletesLocked adds to b the deletion of every key of list k,
// including its damaged marker. The caller holds k's stripe lock and, once
// b is committed, invalidates the cache and clears the damaged mark.
func (s *Store) addListDeletesLocked(b *pebble.Batch, k listKey) error {
	var err error
	scanErr := s.scanList(k, func(key, _ []byte) {
		if err == nil {
			err = b.Delete(key, nil)
		}
	})
	if err == nil && s.isDamagedLocked(k) {
		err = b.Delete(k.damagedKey(), nil)
	}
	if err == nil {
		err = scanErr
	}
	return err
}

// scanList calls fn with each key and value stored under list k, in key
// order, from one snapshot. key and value are valid only during the call.
func (s *Store) scanList(k listKey, fn func(key, value []byte)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: k[:], UpperBound: k.end()})
	if err != nil {
		return fmt.Errorf("storage: reading list %s: %w", k.id(), err)
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("storage: reading list %s: %w", k.id(), err)
		}
		fn(it.Key(), v)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: reading list %s: %w", k.id(), err)
	}
	return nil
}
