package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
)

// Sentinel errors, wrapped with detail; test them with errors.Is.
var (
	// ErrLocked means another process (or another Store in this process)
	// has the directory open; the error is a *LockedError naming its PID.
	ErrLocked = errors.New("storage: data directory in use")
	// ErrNotFound means no part of the list is stored.
	ErrNotFound = errors.New("storage: list not found")
	// ErrCorrupt means a stored value failed its checksum or did not decode;
	// see CorruptError for the details and Repair for the remedy.
	ErrCorrupt = errors.New("storage: corrupt data")
	// ErrClosed means the Store has been closed.
	ErrClosed = errors.New("storage: store closed")
	// ErrStoreCorrupt means Open found the engine's files corrupt (Pebble
	// reported corruption of a table, log or manifest file): the store
	// cannot be read. See Options.SetAsideCorrupt.
	ErrStoreCorrupt = errors.New("storage: store files corrupt")
)

// engineDir is the engine's subdirectory of a store directory, so that the
// store directory can hold the lock file (and anything else the owner puts
// there) beside it.
const engineDir = "pebble"

// stripeCount is the number of list locks. A power of two, so that
// stripe indexes come from the low bits of the ring position.
const stripeCount = 1024

// stripe is one list lock.
type stripe struct {
	// mu serialises read-modify-write of every list whose ring position
	// maps to this stripe (SaveMerge, Delete, Repair, Discard and quarantine
	// writes): the stored parts, the damaged marker and the quarantine
	// entries of those lists, and the damaged set below. Operations take
	// exactly one stripe and nothing else that can block on another stripe,
	// so stripes cannot deadlock. Reads (Load, IDs) do not take it, as they
	// see a consistent snapshot of the engine; Load takes it only to
	// quarantine a corrupt value it found.
	mu sync.Mutex
	// damaged holds the lists of this stripe that have a damaged marker on
	// disk, so that SaveMerge refuses them without a lookup. Guarded by mu.
	damaged map[listKey]struct{}
}

// Store is a durable collection of lists in one directory. It is safe for
// concurrent use.
type Store struct {
	dir  string
	db   *pebble.DB
	lock *dirLock
	log  *slog.Logger
	sync syncer

	stripes [stripeCount]stripe // list locks, by ring position
	encoded *encodedCache       // encodings served by LoadEncoded
	hints   hintCounter         // hint records: how many, the cap, the last sequence number
	index   listIndex           // every stored list: position, write version, digest hash
	// cacheCap is the block cache's bound (Options.CacheSize); read-only.
	cacheCap int64

	horizon  time.Duration    // Options.TombstoneHorizon; read-only
	now      func() time.Time // Options.Now; read-only
	selfHeal bool             // Options.SelfHeal; read-only

	aside        *Aside        // the corrupt files Open set aside, if it did; read-only
	heals        atomic.Uint64 // lists healed since Open (heal.go)
	damagedCount atomic.Int64  // lists with a damaged mark: entries of the stripes' damaged sets

	// closeMu guards closed. Every operation holds it shared for its whole
	// duration and Close holds it exclusively, so Close waits for the
	// operations in flight and the engine is never used after it closes.
	closeMu sync.RWMutex
	closed  bool
}

// Open opens the store in dir, creating the directory if needed. It fails at
// once, with a *LockedError matching ErrLocked, if another process has it
// open, and with an error matching ErrStoreCorrupt if the engine's files
// are corrupt, unless opts.SetAsideCorrupt is set: then it moves them
// aside and opens an empty store (aside.go; see Aside).
func Open(dir string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: creating %s: %w", dir, err)
	}
	lock, err := lockDir(dir, opts.owner())
	if err != nil {
		return nil, err
	}
	s, err := openEngine(dir, opts, log, lock)
	if errors.Is(err, ErrStoreCorrupt) && opts.SetAsideCorrupt {
		s, err = openAside(dir, opts, log, lock, err)
	}
	if err != nil {
		lock.release()
		return nil, err
	}
	return s, nil
}

// openEngine opens the engine in dir, whose lock the caller holds, and
// reads what the store keeps in memory. Corruption that Pebble reports,
// while opening or while init reads, fails with ErrStoreCorrupt.
func openEngine(dir string, opts Options, log *slog.Logger, lock *dirLock) (*Store, error) {
	po, unrefCache := opts.pebbleOptions(log)
	db, err := pebble.Open(filepath.Join(dir, engineDir), po)
	unrefCache()
	if err != nil {
		return nil, engineError(dir, fmt.Errorf("storage: opening %s: %w", dir, err))
	}
	s := &Store{dir: dir, db: db, lock: lock, log: log, encoded: newEncodedCache(opts.EncodedCacheSize),
		horizon: opts.TombstoneHorizon, now: opts.Now, selfHeal: opts.SelfHeal, cacheCap: opts.blockCacheSize()}
	if s.now == nil {
		s.now = time.Now
	}
	s.hints.max = int64(opts.MaxHints)
	if s.hints.max <= 0 {
		s.hints.max = DefaultMaxHints
	}
	s.sync.db = db
	if err := s.init(); err != nil {
		db.Close()
		return nil, engineError(dir, err)
	}
	return s, nil
}

// engineError returns err, a failure to open the store in dir, marked as
// ErrStoreCorrupt if Pebble reports corruption. Pebble marks those errors
// with errors.Mark(err, base.ErrCorruption) of cockroachdb/errors
// (internal/base/error.go of pebble v1.1.5): a table's block checksum
// mismatch or bad footer (sstable/reader.go, sstable/table.go), a corrupt
// log or manifest record (open.go, version_set.go). The mark is not an Is
// method, so the standard errors.Is does not see it;
// pebble.IsCorruptionError (cockroachdb/errors.Is) does, through our
// wrapping too. Anything else (a permission, a full disk, a layout version
// of another release) is not corruption and is returned as it is.
func engineError(dir string, err error) error {
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("%w in %s: %w", ErrStoreCorrupt, dir, err)
	}
	return err
}

// init checks or records the layout version, loads the damaged markers
// and the hint counts, and builds the list index.
func (s *Store) init() error {
	v, closer, err := s.db.Get(metaFormatKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if err := s.db.Set(metaFormatKey, []byte{layoutVersion}, pebble.Sync); err != nil {
			return fmt.Errorf("storage: recording layout version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("storage: reading layout version: %w", err)
	default:
		ok := len(v) == 1 && v[0] == layoutVersion
		closer.Close()
		if !ok {
			return fmt.Errorf("storage: %s has layout version %x; this build reads version %d", s.dir, v, layoutVersion)
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{prefixDamaged},
		UpperBound: []byte{prefixDamaged + 1},
	})
	if err != nil {
		return fmt.Errorf("storage: reading damaged markers: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		if len(it.Key()) != listKeyLen {
			continue
		}
		var k listKey
		copy(k[:], it.Key())
		k[0] = prefixList
		s.setDamagedLocked(k, true) // no other goroutine has s yet
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: reading damaged markers: %w", err)
	}
	if err := s.loadHintCounter(); err != nil {
		return err
	}
	return s.buildIndex()
}

// Close waits for operations in flight, closes the engine and releases the
// directory lock. Closing a closed Store does nothing.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.db.Close()
	if lerr := s.lock.release(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("storage: closing %s: %w", s.dir, err)
	}
	return nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// begin admits an operation; end must follow if it returns nil.
func (s *Store) begin() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

// end finishes an operation admitted by begin.
func (s *Store) end() { s.closeMu.RUnlock() }

// stripeOf returns the lock of the list with prefix k.
func (s *Store) stripeOf(k listKey) *stripe {
	return &s.stripes[k.position()%stripeCount]
}

// isDamagedLocked reports whether the list k is marked damaged. The caller
// holds k's stripe lock.
func (s *Store) isDamagedLocked(k listKey) bool {
	_, ok := s.stripeOf(k).damaged[k]
	return ok
}

// setDamagedLocked records (or clears) the damaged mark of list k in memory.
// The caller holds k's stripe lock and writes the marker key itself.
func (s *Store) setDamagedLocked(k listKey, on bool) {
	st := s.stripeOf(k)
	_, was := st.damaged[k]
	switch {
	case !on && was:
		delete(st.damaged, k)
		s.damagedCount.Add(-1)
	case on && !was:
		if st.damaged == nil {
			st.damaged = make(map[listKey]struct{})
		}
		st.damaged[k] = struct{}{}
		s.damagedCount.Add(1)
	}
}
