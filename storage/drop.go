package storage

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// When a server may drop its copy of a list.
//
// A storage server keeps a list it does not own only to deliver it: to a
// down owner (a hint, SaveHinted) or to an owner it gained in a ring change
// (a move hint, Rehint). Once a hint is delivered the hint goes, and the
// copy may go with it. The copy of list L is deleted only by DropHint(h,
// true), in the same atomic batch as the delivered hint h, and only when
// all of these hold:
//
//  1. Delivered: h.Owner has acknowledged a durable merge of the state
//     delivered for h. A storage server learns it from the proxy's answer to
//     its Handoff (StoreReply or OK) and calls DropHint only then.
//  2. Not an owner: neither that answer (OK means the proxy counts this
//     server among L's owners) nor the server's latest adopted ring makes it
//     one of L's owners. The two may be of different epochs; the server
//     passes dropList only when both agree.
//  3. No newer hinted write: h's record still holds h.Seq.
//  4. No newer write of any kind: L's write version is still h.Written,
//     which LoadHinted read before it read the delivered state.
//  5. Nobody else waiting: no other hint of L remains.
//
// Conditions 1 and 2 are the caller's (cluster/server, handoffDone);
// dropHintLocked checks 3 to 5 and deletes in one critical section under
// L's stripe lock, which every write to L holds across its reads, its
// commit and its index update (SaveMerge, SaveHinted, Rehint, Delete,
// Repair, Discard). If 3 fails nothing is deleted, nor if 4 fails when the
// copy was to go: the hint stays, and a later round delivers the newer
// state. If 2 or 5 fails only the hint goes; but a move hint goes only if
// 4 holds as well, even when the copy stays: an owner that moves a list to
// a new owner (rebalancing) delivers again a state that was written while
// it moved it, so that a write routed by the ring before the change, which
// reached this owner after it read the state it moved, reaches the new
// owner from here rather than only by anti-entropy.
//
// Why dropping the copy cannot lose an acknowledged write. This server
// acknowledges a write of L only once it is durable here (SaveMerge and
// SaveHinted wait for it, durable.go), so the question is whether the copy
// deleted held a write that the owner lacks. Take a write W of L that
// changed what is stored (one that changed nothing brought nothing the
// stored state lacked). Under L's stripe lock W committed, invalidated the
// cache of encodings and then gave L a new write version (index.go).
//
//   - W's version is at most h.Written: W had done all three before
//     LoadHinted read the version, so before it read the state. The commit
//     was visible to the snapshot read, and once invalidate has run the
//     cache never serves a state without W (enccache.go). The delivered
//     state contains W, and by 1 the owner holds it durably.
//   - W's version is later and W took the lock before DropHint: L's
//     version is no longer h.Written when DropHint looks, and by 4 nothing
//     is deleted.
//   - W took the lock after DropHint: it writes after the delete, so it is
//     stored anew, not deleted with the old copy.
//
// A Written of 0 (a hint straight from Hints, or a list not stored when
// LoadHinted read its version) skips 4, so the server never delivers such
// a state: it leaves it for a later round.
//
// Why 3 as well. The version guards the copy; the sequence number guards the
// hint, which matters when the copy stays: a hinted write for h.Owner that
// comes after Hints listed h gives the record a new sequence number, so
// the hint survives and its state reaches h.Owner by handoff. The sequence
// number alone would not guard the copy: ordinary writes do not change it,
// and a hinted write's record is visible as soon as its batch commits,
// while the cache may still serve the state from just before it until
// invalidate runs. (When the copy was to go, 4 closes that window. When it
// stays because this server counts itself an owner (2), the hint can go
// with the older state; the write is not lost: it stays in the copy and
// moves on from there as any replica's state does, by anti-entropy or
// rebalancing.)
//
// Crashes. The hint and the copy go in one batch, which Pebble writes to
// the WAL as one record and applies whole or not at all, on replay too
// (pebble v1.1.5: batch.go, "Atomic commit"; open.go, replayWAL reads one
// batch per record and stops at a torn one), so a crash leaves both or
// neither. DropHint returns only once the delete is durable (syncer); a
// crash before then may bring both back, and the state is delivered again,
// which the owner's merge absorbs.

// LoadHinted reads the state to deliver for h: it returns h with Written
// set to the list's write version, read first, and then the canonical
// encoding of the stored state (LoadEncoded), which therefore contains
// every write up to that version. It fails as LoadEncoded does. A state
// read with Written 0 (the list was stored only after its version was
// read) must not be delivered: see the rule above.
func (s *Store) LoadHinted(h Hint) (Hint, []byte, error) {
	h.Written = s.Version(h.List)
	enc, err := s.LoadEncoded(h.List)
	return h, enc, err
}

// DropHint is called once h's list has been delivered to h.Owner and the
// owner has made it durable. It deletes the hint and, if dropList is set,
// the stored list, as the rule above allows. It returns what it deleted,
// once that is durable.
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
	if err := s.sync.wait(ticket); err != nil {
		return false, false, err
	}
	return true, listDropped, nil
}

// dropHintLocked makes DropHint's decision and commits it, under k's
// stripe lock: conditions 3, 4 and 5 of the rule above.
func (s *Store) dropHintLocked(k listKey, h Hint, dropList bool) (ticket uint64, hintDropped, listDropped bool, err error) {
	hk := hintKey(h.List, h.Owner)
	v, closer, err := s.db.Get(hk)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, false, nil
	}
	if err != nil {
		return 0, false, false, fmt.Errorf("storage: reading the hint of list %s for %s: %w", h.List, h.Owner, err)
	}
	seq, move, _ := decodeHintValue(v)
	closer.Close()
	if seq != h.Seq || ((dropList || move) && h.Written != 0 && s.index.version(k) != h.Written) { // 3, 4
		return 0, false, false, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(hk, nil); err != nil {
		return 0, false, false, fmt.Errorf("storage: deleting the hint of list %s: %w", h.List, err)
	}
	if dropList {
		others := 0 // 5
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
	s.hints.dropped(move)
	if listDropped {
		s.encoded.invalidate(k)
		s.index.remove(k)
		s.setDamagedLocked(k, false)
	}
	return s.sync.ticket(), true, listDropped, nil
}
