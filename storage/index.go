package storage

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"shoplist/crdt"

	"github.com/google/uuid"
)

// The list index: every stored list, in memory, with its ring position, a
// write version and, once computed, the crdt.StateHash of its canonical
// encoding (the bytes LoadEncoded returns, which a server's FetchReply
// carries). It is built at Open by one scan of the list keys and kept exact
// by every write: each change to what is stored for a list (a merge that
// changed it, a delete, a dropped copy, a repair, a damaged mark) bumps the
// list's write version under the list's stripe lock, after the change is
// visible to readers and the cache of encodings has been invalidated, which
// forgets the hash. Hashes are computed lazily, when Digests asks for them,
// so a write costs a map update and no extra read; a hash computed from a
// state read at version v is kept only if the version is still v.
//
// An entry also says whether the list is known to have no floor
// (compact.go), so that a write need not read the name part to learn it
// (storedFloorLocked); a change that may set a floor clears that.
//
// The index answers the cheap questions a server reports once a second
// (ListCount) and the anti-entropy digests of a ring range (Digests), and
// gives DropHint the write version that tells whether a list was written
// after the state delivered for a hint was read (Version).

// indexShardBits is how many top bits of a ring position pick the index
// shard, so that a ring range is a run of shards.
const indexShardBits = 10

// indexShards is the number of index shards.
const indexShards = 1 << indexShardBits

// The index is what a server's memory grows with, one entry per stored
// list, so an entry is packed and a shard is a slice sorted by ring
// position and ID rather than a map: 40 bytes a list, where a map of the
// same entries took 70 to 100 (a 16-byte key beside a 32-byte value, and
// a table between half and seven eighths full). A slice of entries holds
// no pointers, so the collector never scans it. A lookup is a binary
// search in one shard (about 600 entries at a million lists over five
// servers); adding or removing a list moves the entries after it within
// its shard, a few microseconds at that size, under the shard's lock only.

// listIndex is the in-memory index of stored lists.
type listIndex struct {
	shards [indexShards]indexShard
	count  atomic.Int64  // entries in all shards
	vers   atomic.Uint64 // last write version given out; versions are never reused
}

// indexShard is the lists of one run of ring positions.
type indexShard struct {
	// mu guards lists. It is a leaf lock: taken under a stripe lock by
	// writers, alone by readers, and nothing is locked while it is held.
	mu    sync.Mutex
	lists []indexEntry // sorted by position, then ID; one per stored list
}

// indexEntry is one stored list, packed.
type indexEntry struct {
	pos  uint64    // ring position
	id   uuid.UUID // list ID
	vh   uint64    // write version of the stored state (never 0) << 2, | entryFloorZero, | entryHashed
	hash uint64    // crdt.StateHash of the encoding at that version, if vh says so
}

// The flags packed under the version in indexEntry.vh.
const (
	entryHashed    = 1 << 0 // hash is the hash of the state at the version
	entryFloorZero = 1 << 1 // the list is known to have no floor (see floorZero)
	entryFlagBits  = 2
)

// hashed reports whether e.hash is the hash of the state at e's version.
func (e indexEntry) hashed() bool { return e.vh&entryHashed != 0 }

// ver returns e's write version.
func (e indexEntry) ver() uint64 { return e.vh >> entryFlagBits }

// compareEntry orders entries by ring position, then ID: the order of the
// list keys, so that the scan at Open appends.
func compareEntry(e indexEntry, key indexEntry) int {
	if c := cmp.Compare(e.pos, key.pos); c != 0 {
		return c
	}
	return bytes.Compare(e.id[:], key.id[:])
}

// find returns where the entry of (pos, id) is, or would be inserted, in
// the shard, and whether it is there. The caller holds sh.mu.
func (sh *indexShard) find(pos uint64, id uuid.UUID) (int, bool) {
	return slices.BinarySearchFunc(sh.lists, indexEntry{pos: pos, id: id}, compareEntry)
}

// shardOf returns the shard of ring position pos.
func (x *listIndex) shardOf(pos uint64) *indexShard {
	return &x.shards[pos>>(64-indexShardBits)]
}

// touch records a change to the stored state of list k (it is stored after
// the change): a new write version, and the hash forgotten; floorZero says
// whether the list is known to have no floor after the change. Writers
// call it under k's stripe lock, after the change is visible to readers
// and the cache of encodings has been invalidated.
func (x *listIndex) touch(k listKey, floorZero bool) {
	pos, id := k.position(), k.id()
	sh := x.shardOf(pos)
	vh := x.vers.Add(1) << entryFlagBits
	if floorZero {
		vh |= entryFloorZero
	}
	sh.mu.Lock()
	if i, ok := sh.find(pos, id); ok {
		sh.lists[i].vh, sh.lists[i].hash = vh, 0
	} else {
		sh.lists = slices.Insert(sh.lists, i, indexEntry{pos: pos, id: id, vh: vh})
		x.count.Add(1)
	}
	sh.mu.Unlock()
}

// remove records that nothing of list k is stored any more. Writers call it
// under k's stripe lock, after the delete is visible to readers.
func (x *listIndex) remove(k listKey) {
	pos := k.position()
	sh := x.shardOf(pos)
	sh.mu.Lock()
	if i, ok := sh.find(pos, k.id()); ok {
		sh.lists = slices.Delete(sh.lists, i, i+1)
		x.count.Add(-1)
		if len(sh.lists) < cap(sh.lists)/2 { // many lists moved away: give the room back
			sh.lists = exactly(sh.lists)
		}
	}
	sh.mu.Unlock()
}

// trim gives back the room the shards grew beyond their entries while the
// index was built, so that a store that only reads holds 40 bytes a list.
func (x *listIndex) trim() {
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		if cap(sh.lists) > len(sh.lists) {
			sh.lists = exactly(sh.lists)
		}
		sh.mu.Unlock()
	}
}

// exactly returns a copy of entries with no room beyond them (where
// slices.Clone would round up to append's growth).
func exactly(entries []indexEntry) []indexEntry {
	out := make([]indexEntry, len(entries))
	copy(out, entries)
	return out
}

// version returns the write version of list k, or 0 if it is not stored.
func (x *listIndex) version(k listKey) uint64 {
	pos := k.position()
	sh := x.shardOf(pos)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.find(pos, k.id()); ok {
		return sh.lists[i].ver()
	}
	return 0
}

// setHash keeps hash as the hash of list id, read at write version ver,
// unless the list has been written (or dropped) since.
func (x *listIndex) setHash(id uuid.UUID, pos, ver, hash uint64) {
	sh := x.shardOf(pos)
	sh.mu.Lock()
	if i, ok := sh.find(pos, id); ok && sh.lists[i].ver() == ver {
		sh.lists[i].vh |= entryHashed
		sh.lists[i].hash = hash
	}
	sh.mu.Unlock()
}

// floorZero reports whether list k is known to have no floor (compact.go):
// its name part was read, or written, without one since the list's last
// change that may have set one. Writers ask under k's stripe lock, which
// every change of the floor holds too.
func (x *listIndex) floorZero(k listKey) bool {
	pos := k.position()
	sh := x.shardOf(pos)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.find(pos, k.id())
	return ok && sh.lists[i].vh&entryFloorZero != 0
}

// knowFloorZero records that list k, if it is stored, has no floor: its
// name part was just read under k's stripe lock, which the caller holds.
func (x *listIndex) knowFloorZero(k listKey) {
	pos := k.position()
	sh := x.shardOf(pos)
	sh.mu.Lock()
	if i, ok := sh.find(pos, k.id()); ok {
		sh.lists[i].vh |= entryFloorZero
	}
	sh.mu.Unlock()
}

// indexed is a copy of an index entry, unpacked.
type indexed struct {
	id     uuid.UUID
	pos    uint64 // ring position
	ver    uint64 // write version
	hash   uint64 // crdt.StateHash of the encoding at ver, if hashed
	hashed bool
}

// collect returns a copy of every entry whose position lies in the arc
// (start, end] (start == end: the whole ring; see arcHolds).
func (x *listIndex) collect(start, end uint64) []indexed {
	first, last := start>>(64-indexShardBits), end>>(64-indexShardBits)
	n := uint64(indexShards)
	if start != end && !(start > end && first == last) {
		n = (last-first)%indexShards + 1 // a run of shards, wrapping past the last
	}
	var out []indexed
	for i := range n {
		sh := &x.shards[(first+i)%indexShards]
		sh.mu.Lock()
		for _, e := range sh.lists {
			if arcHolds(start, end, e.pos) {
				out = append(out, indexed{id: e.id, pos: e.pos, ver: e.ver(), hash: e.hash, hashed: e.hashed()})
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// arcHolds reports whether pos lies in the arc (start, end] of the ring, going
// clockwise from start; start == end is the whole ring. It is the range
// test of protocol.DigestBucket.
func arcHolds(start, end, pos uint64) bool {
	width := end - start
	off := pos - start
	return width == 0 || (off != 0 && off <= width)
}

// ListCount returns the number of stored lists, from memory: it never
// touches the engine.
func (s *Store) ListCount() int { return int(s.index.count.Load()) }

// Version returns the list's write version: a number that changes with
// every change to what is stored for the list and is never reused while
// the store is open, or 0 when nothing of the list is stored. Versions are
// not durable: they mean something only within one Open.
func (s *Store) Version(id uuid.UUID) uint64 { return s.index.version(keyOf(id)) }

// ListPos is a stored list and its ring position.
type ListPos struct {
	List uuid.UUID
	Pos  uint64 // hashring.Position of the list ID
}

// ListPositions returns every stored list with its ring position, from
// memory, in no particular order.
func (s *Store) ListPositions() []ListPos {
	all := s.index.collect(0, 0)
	out := make([]ListPos, len(all))
	for i, e := range all {
		out[i] = ListPos{List: e.id, Pos: e.pos}
	}
	return out
}

// ListDigest is a stored list's entry in an anti-entropy digest.
type ListDigest struct {
	List uuid.UUID
	Pos  uint64 // ring position
	Hash uint64 // crdt.StateHash of the list's canonical encoding
}

// Digests returns the digest entry of every stored list whose ring position
// lies in the arc (start, end] (start == end: the whole ring), in no
// particular order. Hashes come from memory; a list changed since its hash
// was last computed is read (as LoadEncoded does, but without filling the
// cache of encodings with it) and hashed now, and the hash kept for next
// time. A list that cannot be read because it is damaged (see
// ErrCorrupt) is left out: it is not served either. skipped counts those.
func (s *Store) Digests(start, end uint64) (out []ListDigest, skipped int, err error) {
	if err := s.begin(); err != nil {
		return nil, 0, err
	}
	entries := s.index.collect(start, end)
	s.end() // LoadEncoded below admits itself: never hold begin twice
	out = make([]ListDigest, 0, len(entries))
	for _, e := range entries {
		if !e.hashed {
			enc, err := s.loadEncodedKeeping(e.id, false)
			switch {
			case errors.Is(err, ErrNotFound):
				continue // dropped since collect
			case errors.Is(err, ErrCorrupt):
				skipped++
				continue
			case err != nil:
				return nil, 0, fmt.Errorf("storage: digest of list %s: %w", e.id, err)
			}
			e.hash = crdt.StateHash(enc)
			s.index.setHash(e.id, e.pos, e.ver, e.hash)
		}
		out = append(out, ListDigest{List: e.id, Pos: e.pos, Hash: e.hash})
	}
	return out, skipped, nil
}

// buildIndex fills the index from one scan of the list keys, at Open.
func (s *Store) buildIndex() error {
	if err := s.scanLists(0, ^uint64(0), func(k listKey) { s.index.touch(k, false) }); err != nil {
		return err
	}
	s.index.trim()
	return nil
}

// reindexLocked brings list k's index entry in line with what is stored,
// after a change that may or may not have left parts of it (Repair). The
// caller holds k's stripe lock.
func (s *Store) reindexLocked(k listKey) error {
	found := false
	if err := s.scanList(k, func(_, _ []byte) { found = true }); err != nil {
		return err
	}
	if found {
		s.index.touch(k, false)
	} else {
		s.index.remove(k)
	}
	return nil
}
