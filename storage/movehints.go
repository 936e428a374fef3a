package storage

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"
)

// Move hints. When the ring changes, a server that keeps a list for which
// some owner is new (or that it no longer owns at all) records a move hint
// for each owner that is to receive it; hints whose owner has left the ring
// are replaced by hints for the list's current owners. Move hints are
// delivered like hints for down owners (they share the record layout of
// hints.go, with kind 2) and are not capped: each names a list already
// stored, so their number is bounded by the lists times the replicas.

// HintChange is what Rehint does to the hints of one list.
type HintChange struct {
	List uuid.UUID
	// Add are the servers to give a move hint of the list, unless they
	// already have a hint of it (of either kind).
	Add []string
	// Drop are the servers whose hints of the list are deleted, of either
	// kind; applied before Add.
	Drop []string
}

// Rehint applies each change, every list's in one atomic batch under the
// list's lock, and returns once all of them are durable. A change to a list
// that is no longer stored only drops hints: there is nothing to move. It
// returns how many hint records it added and deleted.
func (s *Store) Rehint(changes []HintChange) (added, dropped int, err error) {
	if err := s.begin(); err != nil {
		return 0, 0, err
	}
	defer s.end()
	var last uint64
	for _, c := range changes {
		a, d, ticket, err := s.rehintOne(c)
		if err != nil {
			return added, dropped, err
		}
		added, dropped, last = added+a, dropped+d, max(last, ticket)
	}
	if err := s.sync.wait(last); err != nil {
		return added, dropped, err
	}
	return added, dropped, nil
}

// rehintOne applies one change under its list's stripe lock and returns the
// ticket of its commit (0 if it changed nothing).
func (s *Store) rehintOne(c HintChange) (added, dropped int, ticket uint64, err error) {
	for _, o := range c.Add {
		if o == "" {
			return 0, 0, 0, fmt.Errorf("storage: move hint of list %s names no owner", c.List)
		}
	}
	k := keyOf(c.List)
	st := s.stripeOf(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	have := map[string]bool{} // owner → its hint is a move hint
	err = s.scanHints(hintListPrefix(c.List), func(key, v []byte) {
		if _, owner, ok := parseHintKey(key); ok {
			_, move, _ := decodeHintValue(v)
			have[owner] = move
		}
	})
	if err != nil {
		return 0, 0, 0, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	var gone []bool // kinds of the records deleted
	for _, o := range c.Drop {
		move, ok := have[o]
		if !ok {
			continue
		}
		if err := b.Delete(hintKey(c.List, o), nil); err != nil {
			return 0, 0, 0, fmt.Errorf("storage: deleting the hint of list %s for %s: %w", c.List, o, err)
		}
		delete(have, o)
		gone = append(gone, move)
	}
	added = 0
	if s.index.version(k) != 0 { // the list is stored: there is something to move
		var seen []string
		for _, o := range c.Add {
			if _, ok := have[o]; ok || slices.Contains(seen, o) {
				continue
			}
			seen = append(seen, o)
			if err := b.Set(hintKey(c.List, o), encodeHintValue(s.hints.seq.Add(1), true), nil); err != nil {
				return 0, 0, 0, fmt.Errorf("storage: writing a move hint of list %s for %s: %w", c.List, o, err)
			}
			added++
		}
	}
	if b.Empty() {
		return 0, 0, 0, nil
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, 0, 0, fmt.Errorf("storage: rewriting the hints of list %s: %w", c.List, err)
	}
	for _, move := range gone {
		s.hints.dropped(move)
	}
	s.hints.moves.Add(int64(added))
	return added, len(gone), s.sync.ticket(), nil
}
