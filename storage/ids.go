package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"
)

// Listing lists. Keys are ordered by ring position, so a listing is a key
// range scan; it visits one key per list, not per item: after reading a
// list's first key it seeks to the end of that list's prefix (listKey.end),
// so a listing costs O(lists × log keys) rather than O(items).

// IDs returns the IDs of every stored list, in ring order (by ring position,
// then ID).
func (s *Store) IDs() ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := s.scanLists(0, ^uint64(0), func(k listKey) { out = append(out, k.id()) })
	return out, err
}

// RangeIDs returns the IDs of the stored lists whose ring position p lies in
// the half-open arc (start, end] of the ring, going clockwise (upwards,
// wrapping from 2^64-1 to 0) from start to end:
//
//   - start < end: start < p ≤ end;
//   - start > end: the arc wraps: p > start or p ≤ end;
//   - start == end: the whole ring.
//
// This is the range a ring node owns when its predecessor is at start and it
// is at end. IDs are returned in arc order: from just after start onwards,
// wrapping to 0 if the arc does.
func (s *Store) RangeIDs(start, end uint64) ([]uuid.UUID, error) {
	var out []uuid.UUID
	add := func(k listKey) { out = append(out, k.id()) }
	if start < end {
		return out, s.scanLists(start+1, end, add)
	}
	if start != ^uint64(0) {
		if err := s.scanLists(start+1, ^uint64(0), add); err != nil {
			return nil, err
		}
	}
	return out, s.scanLists(0, end, add)
}

// Count returns the number of stored lists.
func (s *Store) Count() (int, error) {
	n := 0
	err := s.scanLists(0, ^uint64(0), func(listKey) { n++ })
	return n, err
}

// scanLists calls fn, in key order, for each list whose ring position is in
// the closed interval [from, to].
func (s *Store) scanLists(from, to uint64, fn func(listKey)) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	lo, hi := listBounds(from, to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("storage: listing lists: %w", err)
	}
	for valid := it.First(); valid; {
		var k listKey
		if copy(k[:], it.Key()) < listKeyLen {
			valid = it.Next() // not a list key; never written
			continue
		}
		fn(k)
		valid = it.SeekGE(k.end())
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: listing lists: %w", err)
	}
	return nil
}
