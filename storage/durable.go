package storage

import (
	"fmt"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
)

// syncer turns unsynced commits into durable ones, sharing fsyncs between
// writers.
//
// Writers commit under their list lock without waiting for the WAL to sync
// (pebble.NoSync), take a ticket, release the lock, and then wait. Waiting
// commits an empty synced record, pebble LogData(nil, pebble.Sync). That is
// enough because, in Pebble's commit pipeline (commit.go, db.go, and
// record/log_writer.go of v1.1.5):
//
//   - every commit is written to the WAL, in sequence order, under
//     commitPipeline.mu before Apply returns (and before it becomes visible
//     to readers), so a commit that has returned is in the WAL ahead of any
//     commit that starts later;
//   - a synced commit returns only after the WAL file has been fsynced up to
//     and including its record, which covers everything written before it;
//   - when the WAL rotates, the old file is closed and fsynced before the new
//     one takes records, so "earlier in the WAL" survives rotation.
//
// Pebble's LogWriter already groups concurrent sync requests into one fsync,
// so many writers (on any lists) waiting at once share fsyncs, and a hot
// list's lock is never held across an fsync.
//
// Tickets also let a writer skip the sync when another one has already
// covered it: committed counts the unsynced commits that have returned;
// durable is a ticket number such that every commit with a ticket at or below
// it is synced. A writer that changed nothing but read state under its list
// lock takes current() as its ticket: every commit to that list was made,
// and ticketed, under the same lock, so the state it read is covered.
type syncer struct {
	db        *pebble.DB
	committed atomic.Uint64 // tickets handed out: unsynced commits that have returned
	durable   atomic.Uint64 // every commit with a ticket ≤ durable is synced
}

// ticket records that an unsynced commit has just returned and returns its
// ticket. Call it under the lock that serialised the commit.
func (s *syncer) ticket() uint64 { return s.committed.Add(1) }

// current returns a ticket covering every commit that has returned so far.
func (s *syncer) current() uint64 { return s.committed.Load() }

// wait returns once every commit with a ticket ≤ t is durable.
func (s *syncer) wait(t uint64) error {
	if s.durable.Load() >= t {
		return nil
	}
	// Every ticket up to covered belongs to a commit that returned before
	// this load, so its record precedes the synced record below.
	covered := s.committed.Load()
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("storage: syncing the write-ahead log: %w", err)
	}
	s.markDurable(covered)
	return nil
}

// markDurable records that every commit with a ticket ≤ covered is durable.
func (s *syncer) markDurable(covered uint64) {
	for {
		d := s.durable.Load()
		if d >= covered || s.durable.CompareAndSwap(d, covered) {
			return
		}
	}
}

// Syncpoint is a position in the order of commits: Sync(p) returns once
// every commit up to p is durable. Syncpoints of one store are ordered, and
// the zero Syncpoint is always durable.
type Syncpoint uint64

// Sync returns once every commit up to p is durable (SaveMergeIfUnsynced).
func (s *Store) Sync(p Syncpoint) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	return s.sync.wait(uint64(p))
}
