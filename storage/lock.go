package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFileName is the lock file inside a store's directory.
const lockFileName = "shoplist.lock"

// LockedError is the error of opening a store whose directory another
// process (or another Store in this process) holds. It matches ErrLocked.
type LockedError struct {
	Dir    string // the store directory
	Holder string // the holder, as "process 1234 (client)", from the lock file
}

// Error names the directory and the holder.
func (e *LockedError) Error() string {
	return fmt.Sprintf("storage: data directory %s is in use by %s", e.Dir, e.Holder)
}

// Is reports whether target is ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// dirLock is an exclusive advisory lock on a store directory, held for the
// life of the Store. It is an flock(2) on <dir>/shoplist.lock, so the kernel
// releases it when the holder exits, however it exits: there are no stale
// locks to clean up. The file also names the holder (PID and owner), which
// only serves the error message of a process that finds the lock taken; the
// flock, not the file's contents, is the lock.
type dirLock struct {
	f *os.File
}

// lockDir takes the lock on dir, or fails at once with a *LockedError naming
// the holder. owner describes this process.
func lockDir(dir, owner string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: opening lock file: %w", err)
	}
	if err := tryLock(f); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &LockedError{Dir: dir, Holder: holder}
		}
		return nil, fmt.Errorf("storage: locking %s: %w", path, err)
	}
	// We hold the lock: record ourselves for whoever tries next. A reader
	// racing with this write sees an empty or partial file, and says so.
	line := fmt.Sprintf("%d %s\n", os.Getpid(), sanitizeOwner(owner))
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(line), 0)
	}
	if err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("storage: writing lock file %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// release clears the holder record and drops the lock.
func (l *dirLock) release() error {
	_ = l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readHolder describes the holder recorded in the lock file f, as
// "process 1234 (client)".
func readHolder(f *os.File) string {
	buf := make([]byte, 256)
	n, _ := f.ReadAt(buf, 0)
	pid, owner, _ := strings.Cut(strings.TrimSpace(string(buf[:n])), " ")
	owner = sanitizeOwner(owner)
	if _, err := strconv.Atoi(pid); err != nil {
		return "another process (it has not yet recorded its PID)"
	}
	if owner == "" {
		return "process " + pid
	}
	return fmt.Sprintf("process %s (%s)", pid, owner)
}

// sanitizeOwner keeps the owner on one short printable line.
func sanitizeOwner(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.TrimSpace(s)
}
