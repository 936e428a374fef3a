package storage

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// DefaultEncodedCacheSize is the default bound, in bytes, of the cache of
// canonical list encodings behind LoadEncoded: about 13,000 30-item lists.
const DefaultEncodedCacheSize = 64 << 20

// encodedEntryOverhead is what one cache entry costs besides its bytes and
// its layout's offsets (map slot, list element, entry struct), counted
// against the bound.
const encodedEntryOverhead = 128

// encodedCache keeps the canonical encodings of recently read lists, bounded
// by bytes, evicting the least recently used.
//
// Correctness under concurrent writes rests on a write generation per list
// stripe (the same stripes as the list locks). Every write that changes what
// is stored for a list (a commit by SaveMerge, Delete, Repair or Discard, or
// marking it damaged) calls invalidate, or refresh, under the list's stripe
// lock, after the change is visible to readers and before the write
// returns: that bumps the stripe's generation, then drops the list's entry
// (invalidate) or splices the write into it (refresh). A reader that missed
// the cache notes the generation before its snapshot read and inserts what it
// read only if the generation is unchanged, checked under mu. So either the
// reader's insert comes first (and invalidate drops it), or it comes after
// invalidate's bump and is refused: a stale encoding is never served once the
// write that changed the list has returned. A write elsewhere in the stripe
// only costs a refused insert.
//
// refresh adds the parts the write stored to the entry it finds, to be
// spliced in (see patch) when the entry is next read: a list written many
// times between reads, or never read again, pays for one splice or none.
// Writes to a list are serialised by its stripe lock, so the entry holds
// the list either before this write or, if a reader whose snapshot
// followed the commit inserted it before the bump, after it; the parts are
// set to what is stored, in the order written, so both give the state
// after the write.
type encodedCache struct {
	max  int64                      // bound in bytes; 0 disables the cache
	gens [stripeCount]atomic.Uint64 // write generation per stripe

	// mu guards entries, lru and used, and orders put's generation check
	// against invalidate's removal.
	mu      sync.Mutex
	entries map[uuid.UUID]*list.Element // of *encodedEntry, in lru
	lru     list.List                   // most recently used first
	used    int64                       // bytes of the entries, overhead included
}

// encodedEntry is one cached encoding. An entry is replaced, never
// changed, except for its hash.
type encodedEntry struct {
	id  uuid.UUID
	enc []byte
	lay layout // where enc's parts lie, for patch

	// pending are the parts written since enc, oldest first, not yet
	// spliced in: the list's state is enc patched with them.
	pending []partWrite

	// hash is crdt.StateHash(enc) once hashed is set, which happens at most
	// once, under the cache's mu, and only on an entry with nothing
	// pending.
	hash   uint64
	hashed bool
}

// maxPending is the most written parts an entry keeps pending: one more,
// and they are spliced in at once.
const maxPending = 32

// size is what the entry counts against the bound.
func (e *encodedEntry) size() int64 {
	n := int64(len(e.enc)+4*len(e.lay.items)) + encodedEntryOverhead
	for _, w := range e.pending {
		n += int64(len(w.payload)) + partWriteOverhead
	}
	return n
}

// partWriteOverhead is what a pending part costs besides its payload.
const partWriteOverhead = 64

// current returns element e's entry with its pending parts spliced in,
// keeping it as e's entry; ok is false, and e is removed, if they cannot
// be. The caller holds mu.
func (c *encodedCache) current(e *list.Element) (ent *encodedEntry, ok bool) {
	ent = e.Value.(*encodedEntry)
	if len(ent.pending) == 0 {
		return ent, true
	}
	enc, lay, ok := patch(ent.enc, ent.lay, ent.pending)
	next := &encodedEntry{id: ent.id, enc: enc, lay: lay}
	if !ok || next.size() > c.max/8 {
		c.remove(e)
		return nil, false
	}
	c.used += next.size() - ent.size()
	e.Value = next // readers hold the old bytes, which stay as they were
	return next, true
}

// newEncodedCache returns a cache bounded by size bytes (see
// Options.EncodedCacheSize).
func newEncodedCache(size int64) *encodedCache {
	switch {
	case size == 0:
		size = DefaultEncodedCacheSize
	case size < 0:
		size = 0
	}
	return &encodedCache{max: size, entries: make(map[uuid.UUID]*list.Element)}
}

// gen returns the write generation of list k's stripe.
func (c *encodedCache) gen(k listKey) *atomic.Uint64 { return &c.gens[k.position()%stripeCount] }

// generation returns the current write generation of list k's stripe; a
// reader takes it before reading the list, for put.
func (c *encodedCache) generation(k listKey) uint64 { return c.gen(k).Load() }

// get returns the cached encoding of the list and marks it recently used.
func (c *encodedCache) get(id uuid.UUID) ([]byte, bool) {
	if c.max == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil, false
	}
	ent, ok := c.current(e)
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return ent.enc, true
}

// getHashed is get, with the encoding's crdt.StateHash, computed on the
// first call for each cached state and kept.
func (c *encodedCache) getHashed(id uuid.UUID) (enc []byte, hash uint64, ok bool) {
	if c.max == 0 {
		return nil, 0, false
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	var ent *encodedEntry
	if ok {
		ent, ok = c.current(e)
	}
	if !ok {
		c.mu.Unlock()
		return nil, 0, false
	}
	c.lru.MoveToFront(e)
	hashed, hash := ent.hashed, ent.hash
	c.mu.Unlock()
	if !hashed {
		hash = crdt.StateHash(ent.enc) // outside mu: it reads a few KiB
		c.mu.Lock()
		ent.hash, ent.hashed = hash, true
		c.mu.Unlock()
	}
	return ent.enc, hash, true
}

// put caches enc, laid out as lay, as the encoding of list k, read when the
// stripe's generation was gen, unless a write has happened in the stripe
// since or enc is too large to be worth a slot (over an eighth of the
// bound). enc must not be modified afterwards.
func (c *encodedCache) put(k listKey, gen uint64, enc []byte, lay layout) {
	ent := &encodedEntry{id: k.id(), enc: enc, lay: lay}
	if c.max == 0 || ent.size() > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen(k).Load() != gen {
		return // written since the read began: enc may be stale
	}
	if e, ok := c.entries[ent.id]; ok {
		c.remove(e) // a concurrent reader of the same generation: same state
	}
	c.entries[ent.id] = c.lru.PushFront(ent)
	c.used += ent.size()
	c.evict()
}

// invalidate records a write to list k and drops its entry. The caller holds
// k's stripe lock, and the write is already visible to readers.
func (c *encodedCache) invalidate(k listKey) {
	c.gen(k).Add(1)
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k.id()]; ok {
		c.remove(e)
	}
}

// refresh records a write to list k that stored writes, and adds them to
// the list's entry, if it has one, to be spliced in when it is read,
// rather than dropping it; past maxPending parts they are spliced in now.
// An entry that cannot be spliced, or grows too large for a slot, is
// dropped. The caller holds k's stripe lock, and the write is already
// visible to readers.
func (c *encodedCache) refresh(k listKey, writes []partWrite) {
	c.gen(k).Add(1)
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k.id()]
	if !ok {
		return
	}
	ent := e.Value.(*encodedEntry)
	next := &encodedEntry{id: ent.id, enc: ent.enc, lay: ent.lay,
		pending: append(append(make([]partWrite, 0, len(ent.pending)+len(writes)), ent.pending...), writes...)}
	c.used += next.size() - ent.size()
	e.Value = next
	if len(next.pending) > maxPending || next.size() > c.max/8 {
		if _, ok := c.current(e); !ok {
			return
		}
	}
	c.evict()
}

// evict drops the least recently used entries until the cache is within
// its bound. The caller holds mu.
func (c *encodedCache) evict() {
	for c.used > c.max {
		c.remove(c.lru.Back())
	}
}

// remove drops entry e. The caller holds mu.
func (c *encodedCache) remove(e *list.Element) {
	ent := e.Value.(*encodedEntry)
	c.lru.Remove(e)
	delete(c.entries, ent.id)
	c.used -= ent.size()
}

// usage returns the bytes held and the number of entries.
func (c *encodedCache) usage() (bytes int64, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, len(c.entries)
}
