package replica

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"shoplist/internal/atomicfile"
)

// listsDir and corruptDir are the subdirectories of a replica.
const (
	listsDir   = "lists"
	corruptDir = "corrupt"
)

// path returns the file of list id.
func (s *Store) path(id uuid.UUID) string {
	return filepath.Join(s.dir, listsDir, id.String())
}

// load reads the record of list id: ErrNotFound if there is none, ErrCorrupt
// (after moving the file to corrupt/) if it cannot be decoded. Call it
// holding the locks when the record may be moved.
func (s *Store) load(id uuid.UUID) (*record, error) {
	data, err := readBounded(s.path(id), maxRecordSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if errors.Is(err, ErrCorrupt) {
		return nil, s.quarantine(id, err)
	}
	if err != nil {
		return nil, fmt.Errorf("replica: reading list %s: %w", id, err)
	}
	r, err := decodeRecord(id, data)
	if err != nil {
		return nil, s.quarantine(id, err)
	}
	return r, nil
}

// quarantine moves the corrupt record of id aside, so the list reads as
// absent from now on while its bytes stay for inspection, and returns cause
// with where the bytes went.
func (s *Store) quarantine(id uuid.UUID, cause error) error {
	dst := filepath.Join(s.dir, corruptDir, fmt.Sprintf("%s.%d", id, time.Now().UnixNano()))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("%w (and it could not be moved aside: %v)", cause, err)
	}
	if err := os.Rename(s.path(id), dst); err != nil {
		return fmt.Errorf("%w (and it could not be moved aside: %v)", cause, err)
	}
	return fmt.Errorf("%w; moved to %s", cause, dst)
}

// save writes r durably in place of the list's record.
func (s *Store) save(r *record) error {
	data, err := r.encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(s.path(r.list.ID()), data); err != nil {
		return fmt.Errorf("replica: saving list %s: %w", r.list.ID(), err)
	}
	return nil
}

// remove deletes the record of id durably.
func (s *Store) remove(id uuid.UUID) error {
	if err := os.Remove(s.path(id)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return fmt.Errorf("replica: removing list %s: %w", id, err)
	}
	return atomicfile.SyncDir(filepath.Join(s.dir, listsDir))
}

// readBounded reads a file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrCorrupt, path, st.Size(), max)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return data, nil
}
