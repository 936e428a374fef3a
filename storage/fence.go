package storage

import "shoplist/crdt"

// Writes that depend on a decision taken elsewhere, and the fence that
// orders them before a scan.
//
// A storage server accepts a Store only while its ring makes it an owner
// of the list (or the proxy routed the Store under a ring newer than the
// server's). The ring changes on another goroutine, and a rebalance pass
// then scans the stored lists once: a write that was checked against the
// old ring but committed after the scan would leave a copy nobody moves.
// Two things close that window:
//
//   - SaveMergeIf runs the caller's check under the list's stripe lock,
//     the lock the write commits under (and updates the list index under),
//     so what was checked still holds when the write becomes visible.
//   - Fence takes and releases every stripe lock in turn. A write that held
//     its stripe lock when Fence reached that stripe has committed and
//     indexed by the time Fence returns; a write that takes its stripe lock
//     after Fence passed it runs its check after Fence started, so it sees
//     whatever the caller published before calling Fence.
//
// So a caller that publishes a new decision (an atomic store), then calls
// Fence, then scans (ListPositions) sees every write that was admitted
// under an older decision, and every later write is checked against the
// new one.

// SaveMergeIf is SaveMerge, but it first calls admit under the list's
// stripe lock, before anything is read or written, and refuses the write
// with admit's error, writing nothing, if that is not nil. admit must be
// quick and must not touch the store.
func (s *Store) SaveMergeIf(l *crdt.List, admit func() error) (changed bool, err error) {
	return s.saveMerge(l, admit)
}

// Fence returns once every write that held its list's stripe lock when
// Fence was called has released it: committed, with the list index
// updated, or given up. It holds one stripe lock at a time, briefly.
func (s *Store) Fence() {
	for i := range s.stripes {
		// An empty critical section: waiting for the holder is the point.
		s.stripes[i].mu.Lock()
		s.stripes[i].mu.Unlock()
	}
}

// SaveMergeIfUnsynced is SaveMergeIf without the wait for durability: it
// returns once the merge is committed, with the Syncpoint that Sync takes
// to make it durable. Until Sync(p) has returned nil the merge may be lost
// in a crash, so nothing may acknowledge it before; readers may see it
// already, as they may see any SaveMerge's before it returns.
//
// It lets one goroutine commit many lists and then wait once: Sync of the
// largest Syncpoint covers every smaller one (see syncer), so the writes
// of a batch share one fsync and one wake-up instead of paying one each.
func (s *Store) SaveMergeIfUnsynced(l *crdt.List, admit func() error) (changed bool, p Syncpoint, err error) {
	if err := s.begin(); err != nil {
		return false, 0, err
	}
	defer s.end()
	return s.mergeUnsynced(l, admit)
}
