package storage

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"

	"shoplist/crdt"
)

// rawGet returns a copy of the stored value at key.
func rawGet(t *testing.T, s *Store, key []byte) []byte {
	t.Helper()
	v, closer, err := s.db.Get(key)
	if err != nil {
		t.Fatalf("raw get %s: %v", describeKey(key), err)
	}
	defer closer.Close()
	return bytes.Clone(v)
}

// rawSet writes bytes under key behind the store's back, as a disk fault
// would.
func rawSet(t *testing.T, s *Store, key, value []byte) {
	t.Helper()
	if err := s.db.Set(key, value, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// wantCorrupt checks that err reports corruption of key.
func wantCorrupt(t *testing.T, what string, err error, key []byte) {
	t.Helper()
	var ce *CorruptError
	switch {
	case !errors.Is(err, ErrCorrupt):
		t.Fatalf("%s: %v, want ErrCorrupt", what, err)
	case key == nil:
	case !errors.As(err, &ce) || !bytes.Equal(ce.Key, key):
		t.Fatalf("%s: %v, want a CorruptError for %s", what, err, describeKey(key))
	case !strings.Contains(err.Error(), ce.List.String()):
		t.Fatalf("%s: message %q does not name the list", what, err)
	}
}

// TestCorruptionLifecycle: a flipped byte is detected, quarantined once,
// never served or overwritten, survives a restart, and is cleared by Repair,
// after which the list is rebuilt by merging another replica's state.
func TestCorruptionLifecycle(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk", "eggs", "bread")
	other := newList(t, c, "other", "tea")
	mustSave(t, s, l)
	mustSave(t, s, other)
	k := keyOf(l.ID())
	milk := k.itemKey("milk")
	good := rawGet(t, s, milk)
	bad := bytes.Clone(good)
	bad[len(bad)-3] ^= 0x10
	rawSet(t, s, milk, bad)

	_, err = s.Load(l.ID())
	wantCorrupt(t, "Load", err, milk)
	if !strings.Contains(err.Error(), `item "milk"`) || !errors.Is(err, errChecksum) {
		t.Fatalf("Load error %q should name item \"milk\" and a checksum mismatch", err)
	}
	_, err = s.Load(l.ID())
	wantCorrupt(t, "second Load", err, milk)
	q, err := s.Quarantined()
	if err != nil || len(q) != 1 {
		t.Fatalf("Quarantined = %v, %v; want one entry", q, err)
	}
	if e := q[0]; e.List != l.ID() || !bytes.Equal(e.Key, milk) || !bytes.Equal(e.Value, bad) ||
		!strings.Contains(e.Reason, "checksum") || e.Time.IsZero() || !strings.Contains(e.Part, "milk") {
		t.Fatalf("quarantine entry %+v", e)
	}

	// Writes to the damaged list are refused, whether or not they touch the
	// corrupt part, and the corrupt value stays as it was.
	before := l.MaxStamp()
	if err := l.Add(c, "milk", 2); err != nil {
		t.Fatal(err)
	}
	_, err = s.SaveMerge(l.Delta(before))
	wantCorrupt(t, "SaveMerge into the corrupt part", err, nil)
	before = l.MaxStamp()
	if err := l.Add(c, "jam", 1); err != nil {
		t.Fatal(err)
	}
	_, err = s.SaveMerge(l.Delta(before))
	wantCorrupt(t, "SaveMerge into the damaged list", err, nil)
	if got := rawGet(t, s, milk); !bytes.Equal(got, bad) {
		t.Fatal("the corrupt value was overwritten")
	}
	sameState(t, "other list", mustLoad(t, s, other.ID()), other)

	// The damaged mark is durable.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir)
	_, err = s.SaveMerge(l)
	wantCorrupt(t, "SaveMerge after reopening", err, nil)

	// Repair drops the corrupt part only; the full state from a replica
	// then restores the list.
	dropped, err := s.Repair(l.ID())
	if err != nil || dropped != 1 {
		t.Fatalf("Repair = %d, %v; want 1 part dropped", dropped, err)
	}
	partial := mustLoad(t, s, l.ID())
	if got := partial.ItemKeys(); strings.Join(got, ",") != "bread,eggs" {
		t.Fatalf("after Repair the list has items %q, want bread,eggs", got)
	}
	if !mustSave(t, s, l) {
		t.Fatal("merging the full state after Repair changed nothing")
	}
	sameState(t, "rebuilt list", mustLoad(t, s, l.ID()), l)
	if dropped, err := s.Repair(l.ID()); err != nil || dropped != 0 {
		t.Fatalf("Repair of a sound list = %d, %v", dropped, err)
	}

	// The quarantine keeps the copy until cleared.
	if q, err := s.Quarantined(); err != nil || len(q) != 1 {
		t.Fatalf("Quarantined after Repair = %v, %v", q, err)
	}
	if n, err := s.ClearQuarantine(other.ID()); err != nil || n != 0 {
		t.Fatalf("ClearQuarantine(other) = %d, %v", n, err)
	}
	if n, err := s.ClearQuarantine(l.ID()); err != nil || n != 1 {
		t.Fatalf("ClearQuarantine = %d, %v", n, err)
	}
	if q, err := s.Quarantined(); err != nil || len(q) != 0 {
		t.Fatalf("Quarantined after clearing = %v, %v", q, err)
	}
}

// corruptionCases returns a list of two items, milk and eggs, and every way
// a stored value of it can be wrong: each case, given a store holding the
// list, returns a key and the bad value to write there.
func corruptionCases(t *testing.T, c *crdt.Clock) (*crdt.List, map[string]func(s *Store) (key, value []byte)) {
	l := newList(t, c, "list", "milk", "eggs")
	k := keyOf(l.ID())
	milk, eggs := k.itemKey("milk"), k.itemKey("eggs")
	foreign := newList(t, c, "foreign", "milk")
	return l, map[string]func(s *Store) (key, value []byte){
		"truncated": func(s *Store) ([]byte, []byte) { return milk, rawGet(t, s, milk)[:3] },
		"empty":     func(*Store) ([]byte, []byte) { return milk, nil },
		"version": func(s *Store) ([]byte, []byte) {
			v := rawGet(t, s, milk)
			v[0] = 9
			return milk, v
		},
		"flipped bit": func(s *Store) ([]byte, []byte) {
			v := rawGet(t, s, milk)
			v[len(v)-2] ^= 0x01
			return milk, v
		},
		"undecodable payload": func(*Store) ([]byte, []byte) { return milk, appendValue(nil, []byte{0x95, 0xc1}) },
		"another item's part": func(s *Store) ([]byte, []byte) { return milk, rawGet(t, s, eggs) },
		"another list's part": func(*Store) ([]byte, []byte) {
			return milk, appendValue(nil, foreign.Split()[1].Encode())
		},
		"name part under an item key": func(s *Store) ([]byte, []byte) { return milk, rawGet(t, s, k.nameKey()) },
		"item part under the name key": func(s *Store) ([]byte, []byte) {
			return k.nameKey(), rawGet(t, s, milk)
		},
		"key outside the layout": func(s *Store) ([]byte, []byte) {
			return append(k[:], 0x07), rawGet(t, s, milk)
		},
		"item part carrying a deletion": func(*Store) ([]byte, []byte) {
			p := crdt.Empty(l.ID())
			if err := p.Merge(l.Split()[2]); err != nil { // eggs, milk: milk's part
				t.Fatal(err)
			}
			if err := p.Delete(c); err != nil {
				t.Fatal(err)
			}
			return milk, appendValue(nil, p.Encode())
		},
	}
}

// TestCorruptionKinds: every way a value can be wrong is caught by Load, by
// SaveMerge touching the part, and by Discard, which drops the whole list.
// The store is opened again after the damage, as after a crash, so that
// the write reads the name part too: a store that knows the list has no
// floor does not (TestAWriteThatKnowsTheFloorLeavesTheNamePartUnread).
func TestCorruptionKinds(t *testing.T) {
	c := crdt.NewClock(uuid.New())
	l, cases := corruptionCases(t, c)
	milk := keyOf(l.ID()).itemKey("milk")
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir)
			mustSave(t, s, l)
			key, value := corrupt(s)
			rawSet(t, s, key, value)
			s.Close()
			s = openAt(t, dir)

			before := l.Clone()
			if err := before.Add(c, "milk", 1); err != nil {
				t.Fatal(err)
			}
			_, err := s.SaveMerge(before.Delta(l.MaxStamp()))
			// A write reads the part it merges into and the name part
			// (which holds the list's floor).
			if bytes.Equal(key, milk) || bytes.Equal(key, keyOf(l.ID()).nameKey()) {
				wantCorrupt(t, "SaveMerge", err, key)
			} else if err != nil {
				t.Fatalf("SaveMerge of a sound part: %v", err)
			}
			_, err = s.Load(l.ID())
			wantCorrupt(t, "Load", err, key)
			if q, err := s.Quarantined(); err != nil || len(q) != 1 || !bytes.Equal(q[0].Value, value) {
				t.Fatalf("Quarantined = %+v, %v", q, err)
			}
			n, err := s.Discard(l.ID())
			if err != nil || n != 1 {
				t.Fatalf("Discard = %d, %v", n, err)
			}
			if _, err := s.Load(l.ID()); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load after Discard: %v, want ErrNotFound", err)
			}
			mustSave(t, s, l)
			sameState(t, "rebuilt", mustLoad(t, s, l.ID()), l)
		})
	}
}

// TestDamagedListsAreListed: Damaged names the lists marked damaged, across
// a restart, until Repair.
func TestDamagedListsAreListed(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk")
	mustSave(t, s, newList(t, c, "sound", "tea"))
	mustSave(t, s, l)
	flipPayload(t, s, keyOf(l.ID()).itemKey("milk"))
	if _, err := s.Load(l.ID()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load: %v, want ErrCorrupt", err)
	}
	if got, err := s.Damaged(); err != nil || len(got) != 1 || got[0] != l.ID() {
		t.Fatalf("Damaged = %v, %v; want [%s]", got, err, l.ID())
	}
	if _, err := s.Repair(l.ID()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Damaged(); err != nil || len(got) != 0 {
		t.Fatalf("Damaged after Repair = %v, %v", got, err)
	}
}

// TestAWriteThatKnowsTheFloorLeavesTheNamePartUnread: once the store has
// read or written a list's name part and found no floor, a write of an
// item does not read the name part again, so damage to it that happens
// meanwhile is found by the next read of the list rather than by the
// write; the write, which does not depend on it, is stored.
func TestAWriteThatKnowsTheFloorLeavesTheNamePartUnread(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk", "eggs")
	mustSave(t, s, l)
	name := keyOf(l.ID()).nameKey()
	v := rawGet(t, s, name)
	v[len(v)-2] ^= 0x01
	rawSet(t, s, name, v)
	before := l.MaxStamp()
	if err := l.Add(c, "milk", 1); err != nil {
		t.Fatal(err)
	}
	delta := l.Delta(before)
	if _, err := s.SaveMerge(delta); err != nil {
		t.Fatalf("SaveMerge of an item: %v, want it stored without reading the name part", err)
	}
	_, err := s.Load(l.ID())
	wantCorrupt(t, "Load", err, name)
	got, err := s.LoadEncoded(l.ID())
	if err == nil {
		t.Fatalf("LoadEncoded after Load found the damage: %d bytes, want an error", len(got))
	}
	if _, err := s.Repair(l.ID()); err != nil {
		t.Fatal(err)
	}
	back := mustLoad(t, s, l.ID())
	if ok, err := contains(back, delta.Split()[len(delta.Split())-1]); err != nil || !ok {
		t.Fatalf("the write is not in the repaired list (%v)", err)
	}
}
