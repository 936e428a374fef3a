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
//	'h' | list ID (16) | owner server ID   →   version 1 | sequence (8, big-endian)
//
// The sequence number grows with every hinted write, so that a delivery
// which read the state before a newer hinted write does not drop the hint
// (or the copy) that the newer write still needs (DropHint).

// ErrHintsFull means the store already keeps its maximum number of hint
// records (Options.MaxHints) and refuses a new one.
var ErrHintsFull = errors.New("storage: hint store full")

// hintValueVersion is the format version of a hint record's value.
const hintValueVersion = 1

// Hint is a durable promise to deliver a list to its intended owner.
type Hint struct {
	List  uuid.UUID
	Owner string // the server the list's state is kept for
	Seq   uint64 // sequence number of the latest hinted write; see DropHint
}

// hintCounter counts hint records against their cap and numbers hinted
// writes.
type hintCounter struct {
	count atomic.Int64  // hint records stored or reserved
	max   int64         // cap on count
	seq   atomic.Uint64 // last sequence number given out
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
func encodeHintValue(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{hintValueVersion}, seq)
}

// decodeHintValue reads a hint record's value.
func decodeHintValue(v []byte) (uint64, bool) {
	if len(v) != 9 || v[0] != hintValueVersion {
		return 0, false
	}
	return binary.BigEndian.Uint64(v[1:]), true
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
	var n int64
	var last uint64
	err := s.scanHints(nil, func(_ []byte, v []byte) {
		n++
		if seq, ok := decodeHintValue(v); ok && seq > last {
			last = seq
		}
	})
	if err != nil {
		return err
	}
	s.hints.count.Store(n)
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
	if parts[0].Name() == "" {
		parts = parts[1:]
	}
	hk := hintKey(id, owner)
	reserved := false
	extra := func(b *pebble.Batch) error {
		_, closer, err := s.db.Get(hk)
		switch {
		case errors.Is(err, pebble.ErrNotFound):
			if !s.hints.reserve() {
				return fmt.Errorf("%w: %d hints kept; list %s for %s refused", ErrHintsFull, s.hints.max, id, owner)
			}
			reserved = true
		case err != nil:
			return fmt.Errorf("storage: reading the hint of list %s for %s: %w", id, owner, err)
		default:
			closer.Close()
		}
		return b.Set(hk, encodeHintValue(s.hints.seq.Add(1)), nil)
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
		seq, _ := decodeHintValue(v)
		out = append(out, Hint{List: id, Owner: owner, Seq: seq})
	})
	return out, err
}

// HintCount returns the number of hint records.
func (s *Store) HintCount() int { return int(s.hints.count.Load()) }

// DropHint is called once h's list has been delivered to h.Owner and the
// owner has made it durable. It deletes the hint, unless a hinted write came
// after the delivered state was read (its sequence number is no longer
// h.Seq: the hint stays, to be delivered again). If dropList is set (the
// caller does not own the list) and no other hint of the list remains, it
// also deletes the stored list, in the same atomic batch. It returns what it
// deleted, once that is durable.
func (s *Store) DropHint(h Hint, dropList bool) (hintDropped, listDropped bool, err error) {
	if err := s.begin(); err != nil {
		return false, false, err
	}
	defer s.end()
	k := keyOf(h.List)
	st := s.stripeOf(k)
	st.mu.Lock()
	ticket, hintDropped, listDropped, err := s.dropHintLocked(k, h, dropList)
	st.mu.Unlock()
	if err != nil || !hintDropped {
		return false, false, err
	}
	s.hints.count.Add(-1)
	if err := s.sync.wait(ticket); err != nil {
		return false, false, err
	}
	return true, listDropped, nil
}

// dropHintLocked does DropHint's work under k's stripe lock: every hinted
// write to the list takes the same lock, so the check of the sequence number
// and the deletes are atomic with respect to them.
func (s *Store) dropHintLocked(k listKey, h Hint, dropList bool) (ticket uint64, hintDropped, listDropped bool, err error) {
	hk := hintKey(h.List, h.Owner)
	v, closer, err := s.db.Get(hk)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, false, nil
	}
	if err != nil {
		return 0, false, false, fmt.Errorf("storage: reading the hint of list %s for %s: %w", h.List, h.Owner, err)
	}
	seq, _ := decodeHintValue(v)
	closer.Close()
	if seq != h.Seq {
		return 0, false, false, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(hk, nil); err != nil {
		return 0, false, false, fmt.Errorf("storage: deleting the hint of list %s: %w", h.List, err)
	}
	if dropList {
		others := 0
		if err := s.scanHints(hintListPrefix(h.List), func(key, _ []byte) {
			if string(key) != string(hk) {
				others++
			}
		}); err != nil {
			return 0, false, false, err
		}
		if others == 0 {
			if err := s.addListDeletesLocked(b, k); err != nil {
				return 0, false, false, err
			}
			listDropped = true
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, false, false, fmt.Errorf("storage: dropping the hint of list %s for %s: %w", h.List, h.Owner, err)
	}
	if listDropped {
		s.encoded.invalidate(k)
		s.setDamagedLocked(k, false)
	}
	return s.sync.ticket(), true, listDropped, nil
}
