package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// corruptTables writes a few lists to a store in dir, flushes them into
// table files, closes the store and flips a byte in the first data block of
// every table, as a disk would. It returns the tables' names.
func corruptTables(t *testing.T, dir string) []string {
	t.Helper()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	for _, name := range []string{"one", "two", "three"} {
		mustSave(t, s, newList(t, c, name, "milk", "eggs"))
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, engineDir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table file after a flush")
	}
	var names []string
	for _, f := range tables {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b[20] ^= 0x40 // inside the first data block, which Open's scans read
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(f))
	}
	return names
}

// TestOpenSetsACorruptStoreAside: a flipped byte in a table file makes Open
// fail with ErrStoreCorrupt, leaving the files alone; with SetAsideCorrupt
// it moves the engine directory beside the store's and opens an empty
// store, keeping the rest of the directory (an owner's ID file).
func TestOpenSetsACorruptStoreAside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "server-s1")
	tables := corruptTables(t, dir)
	idFile := filepath.Join(dir, "server-id")
	if err := os.WriteFile(idFile, []byte("s1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := Open(dir, testOptions(t))
	if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("Open of a store with a corrupt table: %v, want ErrStoreCorrupt naming the checksum", err)
	}
	if _, err := os.Stat(filepath.Join(dir, engineDir, tables[0])); err != nil {
		t.Fatalf("Open without SetAsideCorrupt moved the files: %v", err)
	}

	opts := testOptions(t)
	opts.SetAsideCorrupt = true
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open with SetAsideCorrupt: %v", err)
	}
	aside := s.Aside()
	if aside == nil || !errors.Is(aside.Cause, ErrStoreCorrupt) || filepath.Dir(aside.Dir) != root ||
		!strings.HasPrefix(filepath.Base(aside.Dir), "server-s1.corrupt-") || !IsAside(filepath.Base(aside.Dir)) {
		t.Fatalf("Aside = %+v, want the corrupt files beside %s and why", aside, dir)
	}
	if n, err := s.Count(); err != nil || n != 0 || s.ListCount() != 0 {
		t.Fatalf("the store opened after setting the corrupt one aside holds %d lists (%v)", n, err)
	}
	for _, f := range tables {
		if _, err := os.Stat(filepath.Join(aside.Dir, engineDir, f)); err != nil {
			t.Errorf("table %s is not in the aside directory: %v", f, err)
		}
	}
	if b, err := os.ReadFile(idFile); err != nil || string(b) != "s1\n" {
		t.Fatalf("the owner's file in the store directory: %q, %v", b, err)
	}
	l := newList(t, crdt.NewClock(uuid.New()), "new", "tea")
	mustSave(t, s, l)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The new store opens as any other.
	s = openAt(t, dir)
	if s.Aside() != nil {
		t.Fatalf("a sound store reopened reports Aside %+v", s.Aside())
	}
	sameState(t, "the new store's list", mustLoad(t, s, l.ID()), l)
}

// TestOpenSetsNothingAsideButCorruption: a store in use and a store of
// another layout version fail to open as ever, with nothing moved.
func TestOpenSetsNothingAsideButCorruption(t *testing.T) {
	opts := testOptions(t)
	opts.SetAsideCorrupt = true

	dir := t.TempDir()
	held := openAt(t, dir)
	if _, err := Open(dir, opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of a store in use: %v, want ErrLocked", err)
	}
	rawSet(t, held, metaFormatKey, []byte{layoutVersion + 1})
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, opts)
	if err == nil || errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), "layout version") {
		t.Fatalf("Open of another release's store: %v, want the layout version refused", err)
	}
	siblings, _ := filepath.Glob(dir + asideSuffix + "*")
	if _, err := os.Stat(filepath.Join(dir, engineDir)); err != nil || len(siblings) != 0 {
		t.Fatalf("something was set aside: %v, %v", siblings, err)
	}
}

func TestIsAside(t *testing.T) {
	for name, want := range map[string]bool{
		"server-s1.corrupt-20250102T030405Z":   true,
		"server-s1.corrupt-20250102T030405Z-3": true,
		"server-s1":                            false,
		"server-s1.corrupt-yesterday":          false,
		"server-s1.corrupt-20250102T030405Z.x": false,
	} {
		if got := IsAside(name); got != want {
			t.Errorf("IsAside(%q) = %v, want %v", name, got, want)
		}
	}
}
