package replica

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func create(t *testing.T, s *Store, name string) uuid.UUID {
	t.Helper()
	e, err := s.Create(name)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return e.List.ID()
}

func add(name string, qty int64) func(*crdt.List, *crdt.Clock) error {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, name, qty) }
}

func mustEdit(t *testing.T, s *Store, id uuid.UUID, fn func(*crdt.List, *crdt.Clock) error) []string {
	t.Helper()
	_, keys, err := s.Edit(id, fn)
	if err != nil {
		t.Fatalf("Edit: %v", err)
	}
	return keys
}

func wanted(t *testing.T, s *Store, id uuid.UUID, item string) int64 {
	t.Helper()
	e, err := s.Get(id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	v, ok := e.List.Lookup(item)
	if !ok {
		return 0
	}
	return v.Wanted
}

func TestReplicaIDPersistsAndIsShared(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir)
	b := open(t, dir)
	if a.ReplicaID() == uuid.Nil || a.ReplicaID() != b.ReplicaID() {
		t.Fatalf("replica IDs %s and %s: want one non-nil ID per directory", a.ReplicaID(), b.ReplicaID())
	}
	a.Close()
	c := open(t, dir)
	if c.ReplicaID() != a.ReplicaID() {
		t.Fatalf("reopened replica ID %s, want %s", c.ReplicaID(), a.ReplicaID())
	}
	if d := open(t, t.TempDir()); d.ReplicaID() == a.ReplicaID() {
		t.Fatal("two directories share a replica ID")
	}
}

func TestEditsAreDurable(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	id := create(t, s, "Groceries")
	if keys := mustEdit(t, s, id, add("Milk", 2)); strings.Join(keys, ",") != "milk" {
		t.Fatalf("changed keys %q, want [milk]", keys)
	}
	s.Close()
	r := open(t, dir)
	e, err := r.Get(id)
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	if e.List.Name() != "Groceries" || wanted(t, r, id, "milk") != 2 || !e.Pending {
		t.Fatalf("after reopen: name %q, milk %d, pending %v", e.List.Name(), wanted(t, r, id, "milk"), e.Pending)
	}
}

func TestFailedEditSavesNothing(t *testing.T) {
	s := open(t, t.TempDir())
	id := create(t, s, "L")
	mustEdit(t, s, id, add("eggs", 1))
	g0, _ := s.Generation()
	_, _, err := s.Edit(id, func(l *crdt.List, c *crdt.Clock) error {
		if err := l.Add(c, "bread", 1); err != nil {
			return err
		}
		return l.Buy(c, "eggs", 5) // more than remains
	})
	if !errors.Is(err, crdt.ErrOverBuy) {
		t.Fatalf("Edit error %v, want ErrOverBuy", err)
	}
	if wanted(t, s, id, "bread") != 0 {
		t.Fatal("a failed edit saved part of its changes")
	}
	if g1, _ := s.Generation(); g1 != g0 {
		t.Fatalf("generation moved from %d to %d on a failed edit", g0, g1)
	}
}

func TestUnpushedAndPushed(t *testing.T) {
	s := open(t, t.TempDir())
	id := create(t, s, "L")
	mustEdit(t, s, id, add("a", 1))
	mustEdit(t, s, id, add("b", 1))
	delta, tok, ok, err := s.Unpushed(id)
	if err != nil || !ok {
		t.Fatalf("Unpushed: ok %v, %v", ok, err)
	}
	if got := strings.Join(delta.ItemKeys(), ","); got != "a,b" || delta.Name() != "L" {
		t.Fatalf("delta items %q name %q, want a,b and L", got, delta.Name())
	}
	// Edited again while the push is in flight: must stay unpushed.
	mustEdit(t, s, id, add("a", 1))
	if err := s.Pushed(id, tok); err != nil {
		t.Fatalf("Pushed: %v", err)
	}
	e, _ := s.Get(id)
	if !e.Pending || e.LastSync.IsZero() {
		t.Fatalf("after partial push: pending %v, last sync %v; want pending and a sync time", e.Pending, e.LastSync)
	}
	delta, tok, ok, _ = s.Unpushed(id)
	if got := strings.Join(delta.ItemKeys(), ","); !ok || got != "a" || delta.Name() != "" {
		t.Fatalf("second delta items %q name %q, want only a", got, delta.Name())
	}
	if v, _ := delta.Lookup("a"); v.Wanted != 2 {
		t.Fatalf("delta carries a wanted %d, want the current 2", v.Wanted)
	}
	s.Pushed(id, tok)
	if _, _, ok, _ := s.Unpushed(id); ok {
		t.Fatal("still unpushed after every part was acknowledged")
	}
	if e, _ := s.Get(id); e.Pending {
		t.Fatal("entry still pending")
	}
}

func TestMergeKeepsLocalEditsAndMarksNothing(t *testing.T) {
	s := open(t, t.TempDir())
	id := create(t, s, "L")
	mustEdit(t, s, id, add("local", 3))
	// A remote replica holding an older state plus its own edit.
	remoteClock := crdt.NewClock(uuid.New())
	remote := crdt.Empty(id)
	if err := remote.Add(remoteClock, "remote", 1); err != nil {
		t.Fatal(err)
	}
	if err := remote.Add(remoteClock, "local", 2); err != nil { // concurrent add of the same item
		t.Fatal(err)
	}
	e, keys, err := s.Merge(remote, false)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if strings.Join(keys, ",") != "local,remote" {
		t.Fatalf("changed keys %q, want local,remote", keys)
	}
	if got := wanted(t, s, id, "local"); got != 5 {
		t.Fatalf("local wanted %d after merge, want 3+2=5", got)
	}
	delta, _, _, _ := s.Unpushed(id)
	if got := strings.Join(delta.ItemKeys(), ","); got != "local" || !e.Pending {
		t.Fatalf("unpushed after merge %q, want only the local edit", got)
	}
	// Merging the same state again changes nothing and writes nothing.
	g0, _ := s.Generation()
	if _, keys, _ := s.Merge(remote, false); len(keys) != 0 {
		t.Fatalf("re-merge changed %q", keys)
	}
	if g1, _ := s.Generation(); g1 != g0 {
		t.Fatal("a merge that changed nothing wrote")
	}
}

func TestMergeOfUnknownListNeedsAdd(t *testing.T) {
	s := open(t, t.TempDir())
	remote := crdt.Empty(uuid.New())
	if err := remote.Add(crdt.NewClock(uuid.New()), "x", 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Merge(remote, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Merge of a list that is not local: %v, want ErrNotFound", err)
	}
	e, _, err := s.Merge(remote, true)
	if err != nil || e.Pending {
		t.Fatalf("joining Merge: pending %v, %v", e.Pending, err)
	}
	if wanted(t, s, remote.ID(), "x") != 1 {
		t.Fatal("joined list lacks its item")
	}
}

// Two stores on one directory stand in for two processes: each has its own
// lock file descriptor, mutex and clock. Concurrent adds to one item must
// all count.
func TestConcurrentStoresOnOneDirectoryLoseNothing(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
	id := create(t, a, "L")
	const each = 40
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, _, err := s.Edit(id, add("milk", 1)); err != nil {
					t.Errorf("Edit: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := wanted(t, a, id, "milk"); got != 2*each {
		t.Fatalf("milk wanted %d after %d concurrent adds of 1", got, 2*each)
	}
}

func TestGenerationSeesOtherStoresWrites(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
	g0, err := a.Generation()
	if err != nil {
		t.Fatal(err)
	}
	create(t, b, "L")
	if g1, _ := a.Generation(); g1 <= g0 {
		t.Fatalf("generation %d after another store's write, was %d", g1, g0)
	}
}

func TestResolve(t *testing.T) {
	s := open(t, t.TempDir())
	milk := create(t, s, "Weekly")
	other := create(t, s, "Party")
	twin := create(t, s, "Party")
	if id, err := s.Resolve(milk.String()); err != nil || id != milk {
		t.Fatalf("full ID: %s, %v", id, err)
	}
	if id, err := s.Resolve(strings.ToUpper(milk.String()[:8])); err != nil || id != milk {
		t.Fatalf("ID prefix: %s, %v", id, err)
	}
	if id, err := s.Resolve("Weekly"); err != nil || id != milk {
		t.Fatalf("name: %s, %v", id, err)
	}
	_, err := s.Resolve("Party")
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), other.String()) || !strings.Contains(err.Error(), twin.String()) {
		t.Fatalf("ambiguous name: %v, want ErrAmbiguous naming both", err)
	}
	if _, err := s.Resolve("weekly"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("wrong-case name: %v, want ErrNotFound (names match exactly)", err)
	}
	// A name that is also a prefix of another list's ID means the named list.
	prefixNamed := create(t, s, milk.String()[:4])
	if id, err := s.Resolve(milk.String()[:4]); err != nil || id != prefixNamed {
		t.Fatalf("name that is an ID prefix: %s, %v; want the list of that name", id, err)
	}
	if _, err := s.Resolve(uuid.NewString()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown ID: %v", err)
	}
}

func TestForget(t *testing.T) {
	s := open(t, t.TempDir())
	id := create(t, s, "L")
	keep := create(t, s, "M")
	other := create(t, s, "N")
	if err := s.Forget(id, false); !errors.Is(err, ErrPending) {
		t.Fatalf("Forget of an unpushed list: %v, want ErrPending", err)
	}
	_, tok, _, _ := s.Unpushed(id)
	if err := s.Pushed(id, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(keep, true); err != nil { // force drops unpushed changes
		t.Fatal(err)
	}
	if err := s.Forget(id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Forget: %v", err)
	}
	all, err := s.All()
	if err != nil || len(all) != 1 || all[0].List.ID() != other {
		t.Fatalf("All after Forget: %d lists, %v", len(all), err)
	}
	if err := s.Forget(id, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Forget: %v", err)
	}
}

func TestCorruptRecordIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	bad := create(t, s, "Bad")
	good := create(t, s, "Good")
	if err := os.WriteFile(s.path(bad), []byte("\x95garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := s.All()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), bad.String()) {
		t.Fatalf("All error %v, want ErrCorrupt naming %s", err, bad)
	}
	if len(all) != 1 || all[0].List.ID() != good {
		t.Fatalf("All returned %d lists, want the good one", len(all))
	}
	moved, _ := filepath.Glob(filepath.Join(dir, corruptDir, bad.String()+".*"))
	if len(moved) != 1 {
		t.Fatalf("corrupt record not moved aside: %v", moved)
	}
	if _, err := s.All(); err != nil {
		t.Fatalf("All after quarantine: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("SHOPLIST_HOME", "/x/home")
	t.Setenv("XDG_DATA_HOME", "/x/xdg")
	if d, _ := DefaultDir(); d != "/x/home" {
		t.Fatalf("with SHOPLIST_HOME: %s", d)
	}
	t.Setenv("SHOPLIST_HOME", "")
	if d, _ := DefaultDir(); d != "/x/xdg/shoplist" {
		t.Fatalf("with XDG_DATA_HOME: %s", d)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/x/user")
	if d, _ := DefaultDir(); d != "/x/user/.local/share/shoplist" {
		t.Fatalf("with HOME only: %s", d)
	}
}
