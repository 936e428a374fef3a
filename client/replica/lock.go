package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// dirLock serialises read-modify-writes of one directory across processes
// (an flock on <dir>/lock) and, since an flock does not exclude goroutines
// sharing the file, within this process (Store.mu). The lock file's first 8
// bytes hold the generation counter.
type dirLock struct {
	f *os.File
}

// openLock opens (creating) the lock file.
func openLock(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("replica: opening lock file: %w", err)
	}
	return &dirLock{f: f}, nil
}

// lock waits for the flock.
func (l *dirLock) lock() error {
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("replica: locking %s: %w", l.f.Name(), err)
		}
		return nil
	}
}

// unlock drops the flock.
func (l *dirLock) unlock() { _ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) }

// generation reads the counter; a missing or short value is 0.
func (l *dirLock) generation() (uint64, error) {
	var b [8]byte
	n, err := l.f.ReadAt(b[:], 0)
	if n < len(b) {
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("replica: reading generation: %w", err)
		}
		return 0, nil // a new lock file
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

// bump increases the counter; call it holding the lock, after a write. The
// counter is a hint for readers polling for change, not data, so it is not
// synced.
func (l *dirLock) bump() error {
	g, err := l.generation()
	if err != nil {
		return err
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], g+1)
	if _, err := l.f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("replica: writing generation: %w", err)
	}
	return nil
}

// close closes the lock file.
func (l *dirLock) close() error { return l.f.Close() }
