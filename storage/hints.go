package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"

	"shoplist/crdt"
)

// Hinted handoff. A server standing in for a down owner of a list (sloppy
// quorum) merges the written state into its ordinary list store, so that
// its Fetch answers include it, and records a hint naming the intended
// owner in the same atomic batch:
//
//	'h' | list ID (16) | owner server ID   →   kind | sequence (8, big-endian)
//
// The kind byte is also the value's format version: 1 for a hint covering a
// down owner (sloppy quorum, SaveHinted), counted against Options.MaxHints;
// 2 for a move hint (rebalancing, Rehint: the list is to be copied to an
// owner it has after a ring change), not capped, since the lists it moves
// are already stored. A hinted write to a list and owner that already have
// a hint keeps the hint's kind. The sequence number grows with every hinted
// write; drop.go says what it guards when a delivered hint is dropped.

// ErrHintsFull means the store already keeps its maximum number of hint
// records (Options.MaxHints) and refuses a new one.
var ErrHintsFull = errors.New("storage: hint store full")

// Hint kinds, the first byte of a hint record's value.
const (
	hintKindDown = 1 // kept for a down owner (SaveHinted)
	hintKindMove = 2 // moving the list to a new owner (Rehint)
)

// Hint is a durable promise to deliver a list to its intended owner.
type Hint struct {
	List  uuid.UUID
	Owner string // the server the list's state is kept for
	Seq   uint64 // sequence number of the latest hinted write; see drop.go
	Move  bool   // a move hint (rebalancing) rather than one for a down owner
	// Written is the list's write version (Store.Version) when the state
	// delivered for the hint was read, or 0: see drop.go. Hints leaves it
	// 0; LoadHinted sets it.
	Written uint64
}

// hintCounter counts hint records against their cap and numbers hinted
// writes.
type hintCounter struct {
	count atomic.Int64  // hint records for down owners, stored or reserved
	moves atomic.Int64  // move hint records
	max   int64         // cap on count
	seq   atomic.Uint64 // last sequence number given out
}

// dropped records the deletion of a hint record of the given kind.
func (c *hintCounter) dropped(move bool) {
	if move {
		c.moves.Add(-1)
	} else {
		c.count.Add(-1)
	}
}

// reserve takes a slot for a new hint record, or reports that none is left.
func (c *hintCounter) reserve() bool {
	for {
		n := c.count.Load()
		if n >= c.max {
			return false
		}
		if c.count.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// hintKey returns the key of the hint for owner of list id.
func hintKey(id uuid.UUID, owner string) []byte {
	b := make([]byte, 0, 1+16+len(owner))
	b = append(b, prefixHint)
	b = append(b, id[:]...)
	return append(b, owner...)
}

// hintListPrefix returns the prefix of every hint of list id.
func hintListPrefix(id uuid.UUID) []byte { return append([]byte{prefixHint}, id[:]...) }

// encodeHintValue returns a hint record's value.
func encodeHintValue(seq uint64, move bool) []byte {
	kind := byte(hintKindDown)
	if move {
		kind = hintKindMove
	}
	return binary.BigEndian.AppendUint64([]byte{kind}, seq)
}

// decodeHintValue reads a hint record's value. A value that does not decode
// is a hint for a down owner with sequence number 0 (ok false).
func decodeHintValue(v []byte) (seq uint64, move, ok bool) {
	if len(v) != 9 || (v[0] != hintKindDown && v[0] != hintKindMove) {
		return 0, false, false
	}
	return binary.BigEndian.Uint64(v[1:]), v[0] == hintKindMove, true
}

// parseHintKey reads a hint key; ok is false for a key the layout never
// writes.
func parseHintKey(key []byte) (id uuid.UUID, owner string, ok bool) {
	if len(key) <= 1+16 || key[0] != prefixHint {
		return uuid.UUID{}, "", false
	}
	return uuid.UUID(key[1:17]), string(key[17:]), true
}

// loadHintCounter counts the stored hints and finds the last sequence
// number, at Open.
func (s *Store) loadHintCounter() error {
	var down, moves int64
	var last uint64
	err := s.scanHints(nil, func(_ []byte, v []byte) {
		seq, move, _ := decodeHintValue(v)
		if move {
			moves++
		} else {
			down++
		}
		last = max(last, seq)
	})
	if err != nil {
		return err
	}
	s.hints.count.Store(down)
	s.hints.moves.Store(moves)
	s.hints.seq.Store(last)
	return nil
}

// scanHints calls fn with each hint key and value under prefix (nil: every
// hint), from one snapshot. key and value are valid only during the call.
func (s *Store) scanHints(prefix []byte, fn func(key, value []byte)) error {
	if prefix == nil {
		prefix = []byte{prefixHint}
	}
	lo, hi := prefix, prefixEnd(prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("storage: reading hints: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("storage: reading hints: %w", err)
		}
		fn(it.Key(), v)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: reading hints: %w", err)
	}
	return nil
}

// prefixEnd returns the first key after every key that starts with p: p
// read as a big-endian number, plus one. p starts with prefixHint, so this
// never overflows.
func prefixEnd(p []byte) []byte {
	e := append([]byte(nil), p...)
	for i := len(e) - 1; i >= 0; i-- {
		e[i]++
		if e[i] != 0 {
			break
		}
	}
	return e
}

// SaveHinted is SaveMerge for a server standing in for owner, a down owner
// of the list: it merges l into the stored list and records, in the same
// atomic batch, a hint that the list is to be delivered to owner. It returns
// once both are durable. A new hint beyond the store's cap (Options.MaxHints)
// fails with ErrHintsFull, and then nothing is written.
func (s *Store) SaveHinted(l *crdt.List, owner string) (changed bool, err error) {
	if owner == "" {
		return false, fmt.Errorf("storage: hinted write of list %s names no owner", l.ID())
	}
	if err := s.begin(); err != nil {
		return false, err
	}
	defer s.end()
	id := l.ID()
	if id.Version() != 4 || id.Variant() != uuid.RFC4122 {
		return false, fmt.Errorf("storage: list ID %s is not a version 4 UUID", id)
	}
	parts := l.Split()
	if parts[0].HeadEmpty() {
		parts = parts[1:]
	}
	hk := hintKey(id, owner)
	reserved := false
	extra := func(b *pebble.Batch) error {
		v, closer, err := s.db.Get(hk)
		move := false
		switch {
		case errors.Is(err, pebble.ErrNotFound):
			if !s.hints.reserve() {
				return fmt.Errorf("%w: %d hints kept; list %s for %s refused", ErrHintsFull, s.hints.max, id, owner)
			}
			reserved = true
		case err != nil:
			return fmt.Errorf("storage: reading the hint of list %s for %s: %w", id, owner, err)
		default:
			_, move, _ = decodeHintValue(v) // an existing hint keeps its kind
			closer.Close()
		}
		return b.Set(hk, encodeHintValue(s.hints.seq.Add(1), move), nil)
	}
	k := keyOf(id)
	st := s.stripeOf(k)
	st.mu.Lock()
	ticket, changed, err := s.mergeLocked(k, parts, extra)
	st.mu.Unlock()
	if err != nil {
		if reserved {
			s.hints.count.Add(-1)
		}
		return false, err
	}
	if err := s.sync.wait(ticket); err != nil {
		return false, err
	}
	return changed, nil
}

// Hints returns every hint record, in key order (by list, then owner). A
// record whose value does not decode is returned with Seq 0, so that it is
// still delivered; DropHint then removes it.
func (s *Store) Hints() ([]Hint, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	var out []Hint
	err := s.scanHints(nil, func(key, v []byte) {
		id, owner, ok := parseHintKey(key)
		if !ok {
			return
		}
		seq, move, _ := decodeHintValue(v)
		out = append(out, Hint{List: id, Owner: owner, Seq: seq, Move: move})
	})
	return out, err
}

// HintCount returns the number of hint records of both kinds, from memory.
func (s *Store) HintCount() int { return int(s.hints.count.Load() + s.hints.moves.Load()) }

// MoveHintCount returns the number of move hint records (see Rehint), from
// memory.
func (s *Store) MoveHintCount() int { return int(s.hints.moves.Load()) }
