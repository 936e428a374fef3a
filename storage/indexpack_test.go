package storage

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
)

// TestAnIndexEntryIsFortyBytes: the entry is what a server's memory grows
// with; a field added or a padding hole shows here.
func TestAnIndexEntryIsFortyBytes(t *testing.T) {
	if n := unsafe.Sizeof(indexEntry{}); n != 40 {
		t.Fatalf("indexEntry is %d bytes, want 40", n)
	}
}

// TestThePackedIndexAgreesWithAMap drives the index with random adds,
// rewrites, hashes and removes (several lists per shard and lists that
// share a ring position) and compares it after every step with a plain map
// of what it must hold: each list's position, version and hash, the count,
// and every shard sorted by position then ID.
func TestThePackedIndexAgreesWithAMap(t *testing.T) {
	var x listIndex
	ref := map[uuid.UUID]wantEntry{}
	rng := rand.New(rand.NewPCG(1, 2))
	keyAt := func(id uuid.UUID, pos uint64) listKey {
		k := keyOf(id)
		if pos != 0 { // a position of our choosing, to crowd a shard or share a position
			for i := range 8 {
				k[1+i] = byte(pos >> (56 - 8*i))
			}
		}
		return k
	}
	var ids []uuid.UUID
	positions := map[uuid.UUID]uint64{}
	crowded := uint64(5) << (64 - indexShardBits) // one shard gets many lists
	for step := range 4000 {
		switch op := rng.IntN(10); {
		case op < 5 || len(ids) == 0: // a new list
			id := uuid.New()
			var pos uint64
			switch rng.IntN(3) {
			case 0:
				pos = crowded + rng.Uint64N(1<<20)
			case 1:
				if len(ids) > 0 { // the position of another list
					pos = positions[ids[rng.IntN(len(ids))]]
				}
			}
			k := keyAt(id, pos)
			positions[id] = k.position()
			ids = append(ids, id)
			x.touch(k, rng.IntN(2) == 0)
			ref[id] = wantEntry{pos: k.position(), ver: x.vers.Load()}
		case op < 7: // a write to a stored list
			id := ids[rng.IntN(len(ids))]
			k := keyAt(id, positions[id])
			x.touch(k, rng.IntN(2) == 0)
			ref[id] = wantEntry{pos: k.position(), ver: x.vers.Load()}
		case op < 9: // a hash, sometimes of a version written over since
			id := ids[rng.IntN(len(ids))]
			w := ref[id]
			ver, hash := w.ver, rng.Uint64()
			if rng.IntN(4) == 0 {
				ver-- // stale: must not be kept
			}
			x.setHash(id, positions[id], ver, hash)
			if ver == w.ver {
				w.hash, w.hashed = hash, true
				ref[id] = w
			}
		default: // a removal
			i := rng.IntN(len(ids))
			id := ids[i]
			x.remove(keyAt(id, positions[id]))
			delete(ref, id)
			ids = slices.Delete(ids, i, i+1)
		}
		if step%200 == 0 || step == 3999 {
			checkIndex(t, &x, ref)
		}
	}
	x.trim()
	checkIndex(t, &x, ref)
	for i := range x.shards {
		if sh := &x.shards[i]; cap(sh.lists) != len(sh.lists) {
			t.Fatalf("shard %d: capacity %d for %d entries after trim", i, cap(sh.lists), len(sh.lists))
		}
	}
}

// wantEntry is what the index must say of a list.
type wantEntry struct {
	pos, ver, hash uint64
	hashed         bool
}

// checkIndex compares x with ref (list → what its entry must say) and
// checks every shard's order and that each entry is in the shard of its
// position.
func checkIndex(t *testing.T, x *listIndex, ref map[uuid.UUID]wantEntry) {
	t.Helper()
	if int(x.count.Load()) != len(ref) {
		t.Fatalf("count %d, want %d", x.count.Load(), len(ref))
	}
	all := x.collect(0, 0)
	if len(all) != len(ref) {
		t.Fatalf("collect found %d entries, want %d", len(all), len(ref))
	}
	for i := range x.shards {
		sh := &x.shards[i]
		if !slices.IsSortedFunc(sh.lists, compareEntry) {
			t.Fatalf("shard %d out of order", i)
		}
		for _, e := range sh.lists {
			if x.shardOf(e.pos) != sh {
				t.Fatalf("list %s at position %x in shard %d", e.id, e.pos, i)
			}
		}
	}
	for _, e := range all {
		got := wantEntry{pos: e.pos, ver: e.ver, hash: e.hash, hashed: e.hashed}
		if w, ok := ref[e.id]; !ok || got != w {
			t.Fatalf("list %s: index has %+v, want %+v (stored: %v)", e.id, got, w, ok)
		}
	}
}

// TestTheIndexBuiltAtOpenHoldsEachListsPosition: after a reopen the index
// is rebuilt from the list keys, with every list at hashring.Position of
// its ID, unhashed, and no room kept beyond its entries.
func TestTheIndexBuiltAtOpenHoldsEachListsPosition(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	c := crdt.NewClock(uuid.New())
	ids := map[uuid.UUID]bool{}
	for range 200 {
		l := newList(t, c, "list", "milk", "eggs")
		mustSave(t, s, l)
		ids[l.ID()] = true
	}
	if _, _, err := s.Digests(0, 0); err != nil { // hash them all
		t.Fatal(err)
	}
	must(t, s.Close())
	s = openAt(t, dir)
	all := s.index.collect(0, 0)
	if len(all) != len(ids) || s.ListCount() != len(ids) {
		t.Fatalf("index of %d entries (ListCount %d) after reopen, want %d", len(all), s.ListCount(), len(ids))
	}
	for _, e := range all {
		if !ids[e.id] || e.pos != hashring.Position(e.id.String()) || e.hashed || e.ver == 0 {
			t.Fatalf("entry %+v after reopen: want a stored list at its position, unhashed, version set", e)
		}
	}
	for i := range s.index.shards {
		if sh := &s.index.shards[i]; cap(sh.lists) != len(sh.lists) {
			t.Fatalf("shard %d: capacity %d for %d entries after Open", i, cap(sh.lists), len(sh.lists))
		}
	}
	checkDigests(t, s, "after reopen", rand.New(rand.NewPCG(3, 4)))
}
