// Package diskfault damages the files of a stopped storage server's store as
// a failing disk would, for tests of what the server makes of it.
//
// It works on the store's engine directly (Pebble, in <dir>/pebble), behind
// the storage package's back, and relies on the key layout storage/doc.go
// documents: a list's item part is stored under
//
//	'l' | ring position (8, big-endian) | list ID (16) | 0x01 | item key
//
// and each value is a version byte, a CRC-32C and the payload. Pebble's own
// lock file makes it fail on a store a running server has open.
package diskfault

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"

	"shoplist/hashring"
)

// engineDir is the store's engine directory in a server's data directory.
const engineDir = "pebble"

// FlipValue flips one bit of the payload of the stored part of item (its
// normalised key) of list, in the store of the stopped server whose data
// directory is dir: the value's checksum then fails, as after a disk fault
// under one value. It returns the value as it now is.
func FlipValue(dir string, list uuid.UUID, item string) ([]byte, error) {
	db, err := openEngine(dir)
	if err != nil {
		return nil, err
	}
	bad, err := flipValue(db, itemKey(list, item))
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("diskfault: closing %s: %w", dir, cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("diskfault: item %q of list %s in %s: %w", item, list, dir, err)
	}
	return bad, nil
}

// flipValue flips a bit of the payload of the value at key, durably.
func flipValue(db *pebble.DB, key []byte) ([]byte, error) {
	v, closer, err := db.Get(key)
	if err != nil {
		return nil, err
	}
	bad := append([]byte(nil), v...)
	closer.Close()
	if len(bad) < 6 {
		return nil, fmt.Errorf("the value is %d bytes, too short to hold a payload", len(bad))
	}
	bad[len(bad)-2] ^= 0x04
	return bad, db.Set(key, bad, pebble.Sync)
}

// FlipTables flushes everything the stopped server's store in dir holds
// into table files and then flips a byte in the first data block of every
// table (which opening the store reads), as a disk fault under a table
// would: the block's checksum then fails. It returns the tables' paths.
func FlipTables(dir string) ([]string, error) {
	db, err := openEngine(dir)
	if err != nil {
		return nil, err
	}
	if err := db.Flush(); err != nil {
		db.Close()
		return nil, fmt.Errorf("diskfault: flushing %s: %w", dir, err)
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("diskfault: closing %s: %w", dir, err)
	}
	tables, err := filepath.Glob(filepath.Join(dir, engineDir, "*.sst"))
	if err == nil && len(tables) == 0 {
		err = fmt.Errorf("no table file in %s after a flush", filepath.Join(dir, engineDir))
	}
	if err != nil {
		return nil, fmt.Errorf("diskfault: %w", err)
	}
	for _, t := range tables {
		if err := flipByte(t, 20); err != nil {
			return nil, err
		}
	}
	return tables, nil
}

// openEngine opens the engine of the store in dir with Pebble's defaults,
// which read any store of the format the storage package pins.
func openEngine(dir string) (*pebble.DB, error) {
	db, err := pebble.Open(filepath.Join(dir, engineDir), &pebble.Options{ErrorIfNotExists: true, Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("diskfault: opening the store in %s (is its server stopped?): %w", dir, err)
	}
	return db, nil
}

// quiet is a Pebble logger that keeps its routine messages out of test
// output.
type quiet struct{}

func (quiet) Infof(string, ...any) {}

// Fatalf panics: Pebble calls it only when it cannot go on.
func (quiet) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// itemKey returns the key of the item part of list, by the layout of
// storage/doc.go.
func itemKey(list uuid.UUID, item string) []byte {
	k := []byte{'l'}
	k = binary.BigEndian.AppendUint64(k, hashring.Position(list.String()))
	k = append(k, list[:]...)
	k = append(k, 0x01)
	return append(k, item...)
}

// flipByte flips the bits of the byte at offset off of the file at path,
// in place, and syncs the file.
func flipByte(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("diskfault: %w", err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return fmt.Errorf("diskfault: reading %s: %w", path, err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		return fmt.Errorf("diskfault: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("diskfault: syncing %s: %w", path, err)
	}
	return f.Close()
}
