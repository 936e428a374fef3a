//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package storage

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// errWouldBlock reports that another open file holds the lock.
var errWouldBlock = errors.New("lock held elsewhere")

// tryLock fails: this platform has no flock, and a store must not run
// without its directory lock.
func tryLock(*os.File) error {
	return fmt.Errorf("directory locking on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func unlock(*os.File) error { return nil }
