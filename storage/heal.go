package storage

import (
	"errors"
	"fmt"
)

// Healing: what a store opened with Options.SelfHeal does with a corrupt
// value, instead of leaving its list refused until an operator acts.
//
// A storage server keeps one of N replicas of each list, so a part it can
// no longer read is still held by the other owners. When an operation
// (Load, LoadEncoded, SaveMerge and SaveHinted, the digests built on
// LoadEncoded) meets a corrupt value of list L, and every corrupt value of
// L is damaged bytes (below), the store heals L under its stripe lock, in
// one synced batch: it copies each corrupt value into the quarantine (kept
// for inspection, corrupt.go), deletes it, and clears L's damaged mark. It
// then starts the operation over, once: a read returns what is left of L, a
// write merges into it. What was dropped comes back from the other
// replicas, as merging is a join: anti-entropy finds L's hash (or L
// itself, if nothing is left) differing between the owners and stores the
// merge of their states here, and so does read repair when L is read.
// Until then this replica serves a partial state, as one that missed
// writes does.
//
// Damaged bytes are a value too short for its header or whose CRC-32C
// does not match its payload (value.go): not what SaveMerge wrote, which
// framed the payload it had encoded with its checksum. Only such values are
// dropped. A value whose checksum holds but that is not the part its key
// names, does not decode, or carries an unknown format version, is what
// some program wrote: a newer release, or a fault in this one. The same
// bytes are then likely on every replica that merged the same state, so
// dropping them everywhere would lose good data, and merging the others'
// states back would bring the same bytes again, round after round. Such a
// list is marked damaged and refused as without SelfHeal (the operator's
// Repair and Discard, quarantine.go; `server repair`).
//
// Why healing loses nothing acknowledged that was still readable, and
// cannot loop:
//
//   - It deletes a value only if its bytes, read under L's stripe lock,
//     fail their checksum, and only while they are still stored as read
//     (addQuarantine compares them). Every write of L holds the same lock
//     across its reads and commit, so no write's value can be deleted in
//     its place; a write acknowledged before the damage is lost here only
//     because its bytes were damaged, and is still on the other replicas
//     that acknowledged it.
//   - A write that meets the damage heals first and then merges: its own
//     commit, and the sync it waits for before it returns (durable.go),
//     come after the heal's synced batch, so what it acknowledges is
//     stored and readable.
//   - A value merged back from another replica is written anew, framed
//     with the checksum of its bytes, so it is dropped again only if the
//     disk damages it again; a good value is never dropped.
//   - An operation heals at most once: corruption met again by its retry
//     marks the list damaged and fails it, and the next operation heals
//     again.

// healable reports whether every one of bad is damaged bytes, which
// healing may drop.
func healable(bad []badValue) bool {
	for _, v := range bad {
		if !v.damagedBytes() {
			return false
		}
	}
	return len(bad) > 0
}

// damagedBytes reports whether the value's bytes are not what the store
// wrote: too short for the header, or failing the checksum.
func (v badValue) damagedBytes() bool {
	return errors.Is(v.err.Err, errShortValue) || errors.Is(v.err.Err, errChecksum)
}

// corruptFound carries the corrupt values an operation met under a list's
// stripe lock back to mergeLocked, which heals the list or refuses it. It
// never leaves the package.
type corruptFound struct{ bad []badValue }

func (e *corruptFound) Error() string { return badError(e.bad).Error() }

// corruptLocked handles the corrupt values bad that an operation met in
// list k: it heals the list if the store self-heals and every one of them
// is damaged bytes, and then returns nil (the caller starts over);
// otherwise it quarantines them, marks the list damaged and returns the
// error describing them. The caller holds k's stripe lock.
func (s *Store) corruptLocked(k listKey, bad []badValue) error {
	if !s.selfHeal || !healable(bad) {
		return s.markDamagedLocked(k, bad)
	}
	return s.healLocked(k)
}

// healLocked heals list k: it reads every value of the list and, if the
// corrupt ones are all damaged bytes, quarantines and drops them and
// clears the damaged mark (a list marked damaged that holds no corrupt
// value any more just loses its mark); otherwise it marks the list damaged
// and fails. The caller holds k's stripe lock.
func (s *Store) healLocked(k listKey) error {
	bad, _, err := s.findCorruptLocked(k, false)
	if err != nil {
		return err
	}
	if len(bad) > 0 && !healable(bad) {
		return fmt.Errorf("%w (not damaged bytes: the list refuses writes until an operator repairs it)", s.markDamagedLocked(k, bad))
	}
	if err := s.dropLocked(k, bad, nil); err != nil {
		return fmt.Errorf("storage: healing list %s: %w (while handling: %w)", k.id(), err, badError(bad))
	}
	if len(bad) > 0 {
		s.heals.Add(1)
		s.log.Error("storage: corrupt values quarantined and dropped; the list takes writes again and is made whole from the other replicas",
			"list", k.id(), "values", len(bad), "err", badError(bad))
	}
	return nil
}

// Heals returns how many times a list was healed (see heal.go) since the
// store was opened.
func (s *Store) Heals() uint64 { return s.heals.Load() }

// DamagedCount returns how many lists are marked damaged: they hold
// corrupt values that the store did not drop on its own and refuse writes
// until an operator runs Repair or Discard. From memory.
func (s *Store) DamagedCount() int { return int(s.damagedCount.Load()) }
