package replica

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/internal/atomicfile"
)

// Store is a client's local replica in one directory. It is safe for
// concurrent use by goroutines, and by other processes opening the same
// directory (see the package documentation).
type Store struct {
	dir   string
	id    uuid.UUID
	clock *crdt.Clock
	now   func() time.Time // wall clock for LastSync; tests replace it

	// mu serialises this process's read-modify-writes, which lock also
	// serialises across processes; it guards lock and closed.
	mu     sync.Mutex
	lock   *dirLock
	closed bool
}

// Entry is a snapshot of one local list.
type Entry struct {
	List     *crdt.List // a private copy: the caller may read and change it freely
	Pending  bool       // has local edits the cluster has not acknowledged
	LastSync time.Time  // last successful push or pull of the list; zero = never
}

// DefaultDir returns where a client keeps its replica: $SHOPLIST_HOME if
// set, else $XDG_DATA_HOME/shoplist, else ~/.local/share/shoplist.
func DefaultDir() (string, error) {
	if d := os.Getenv("SHOPLIST_HOME"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "shoplist"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("replica: no data directory: set SHOPLIST_HOME or pass --data (%w)", err)
	}
	return filepath.Join(home, ".local", "share", "shoplist"), nil
}

// Open opens the replica in dir, creating the directory and the persistent
// replica ID on first use.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, listsDir), 0o700); err != nil {
		return nil, fmt.Errorf("replica: creating %s: %w", dir, err)
	}
	lk, err := openLock(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, lock: lk, now: time.Now}
	if err := lk.lock(); err != nil {
		lk.close()
		return nil, err
	}
	s.id, err = loadOrCreateID(dir)
	lk.unlock()
	if err != nil {
		lk.close()
		return nil, err
	}
	s.clock = crdt.NewClock(s.id)
	return s, nil
}

// loadOrCreateID reads <dir>/replica-id, creating it if it does not exist.
// Call it holding the directory lock.
func loadOrCreateID(dir string) (uuid.UUID, error) {
	path := filepath.Join(dir, "replica-id")
	b, err := os.ReadFile(path)
	if err == nil {
		id, perr := uuid.Parse(strings.TrimSpace(string(b)))
		if perr != nil || id == uuid.Nil {
			return uuid.Nil, fmt.Errorf("%w: %s does not hold a replica ID: %v", ErrCorrupt, path, perr)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return uuid.Nil, fmt.Errorf("replica: reading replica ID: %w", err)
	}
	id := uuid.New()
	if err := atomicfile.WriteFile(path, []byte(id.String()+"\n")); err != nil {
		return uuid.Nil, fmt.Errorf("replica: saving replica ID: %w", err)
	}
	return id, nil
}

// Close releases the directory. Calls after Close fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.lock.close()
}

// Dir returns the replica's directory.
func (s *Store) Dir() string { return s.dir }

// ReplicaID returns the persistent replica ID the client stamps its edits with.
func (s *Store) ReplicaID() uuid.UUID { return s.id }

// SetAuthor sets the display name this replica signs its edits with from
// now on ("" for none); see crdt.CheckAuthor for what a name may be. The
// client keeps the name in its configuration and sets it at every start.
func (s *Store) SetAuthor(name string) error { return s.clock.SetAuthor(name) }

// Author returns the display name this replica signs its edits with.
func (s *Store) Author() string { return s.clock.Author() }

// Generation returns a number that increases whenever any process writes to
// the directory; poll it to notice edits made elsewhere.
func (s *Store) Generation() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.lock.generation()
}

// update runs fn holding both locks and bumps the generation if fn wrote.
func (s *Store) update(fn func() (wrote bool, err error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.lock.lock(); err != nil {
		return err
	}
	defer s.lock.unlock()
	wrote, err := fn()
	if wrote {
		if berr := s.lock.bump(); err == nil {
			err = berr
		}
	}
	return err
}

// entry makes the caller's snapshot of r.
func (r *record) entry() Entry {
	e := Entry{List: r.list.Clone(), Pending: len(r.dirty) > 0}
	if r.lastSync > 0 {
		e.LastSync = time.UnixMilli(r.lastSync)
	}
	return e
}
