package membership

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// File names inside Config.Dir.
const (
	boltFile = "raft.db" // the log and the stable store (term, vote)
	// FileSnapshotStore keeps its snapshots in a "snapshots" directory of
	// the base it is given.
)

const (
	// logCacheSize is the recent log entries kept in memory in front of
	// the log store.
	logCacheSize = 512
	// boltOpenTimeout bounds the wait for bbolt's file lock: another
	// process holding raft.db is reported instead of waited for.
	boltOpenTimeout = time.Second
)

// stores are Raft's log, stable and snapshot stores.
type stores struct {
	logs   raft.LogStore
	stable raft.StableStore
	snaps  raft.SnapshotStore
	bolt   *raftboltdb.BoltStore // nil in memory
}

// openStores opens the stores in dir (created if needed), or in memory when
// dir is "".
func openStores(dir string, retain int, logger hclog.Logger) (*stores, error) {
	if dir == "" {
		mem := raft.NewInmemStore()
		return &stores{logs: mem, stable: mem, snaps: raft.NewInmemSnapshotStore()}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("membership: creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, boltFile)
	bolt, err := raftboltdb.New(raftboltdb.Options{
		Path:        path,
		BoltOptions: &bbolt.Options{Timeout: boltOpenTimeout},
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("membership: %s is in use by another process: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("membership: opening %s: %w", path, err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, retain, logger)
	if err != nil {
		_ = bolt.Close()
		return nil, fmt.Errorf("membership: opening snapshots in %s: %w", dir, err)
	}
	logs, err := raft.NewLogCache(logCacheSize, bolt)
	if err != nil {
		_ = bolt.Close()
		return nil, fmt.Errorf("membership: log cache: %w", err)
	}
	return &stores{logs: logs, stable: bolt, snaps: snaps, bolt: bolt}, nil
}

// close closes the files.
func (s *stores) close() error {
	if s.bolt == nil {
		return nil
	}
	if err := s.bolt.Close(); err != nil {
		return fmt.Errorf("membership: closing the raft log: %w", err)
	}
	return nil
}
