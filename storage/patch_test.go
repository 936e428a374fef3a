package storage

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// TestAWriteRefreshesTheCachedEncoding: once a list is read, each write
// that takes the per-part path leaves its encoding in the cache, brought up
// to date: items added before, between and after the others, an item
// changed, the list renamed, the item array outgrowing a fixarray, and a
// list without a name part gaining one. A write that takes the whole-list
// path (a remove) drops the entry, and the next read is right too.
func TestAWriteRefreshesTheCachedEncoding(t *testing.T) {
	s := openWithCache(t, 1<<20)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "weekly", "item 05", "item 10")
	unnamed := crdt.Empty(uuid.New())
	if err := unnamed.Add(c, "milk", 1); err != nil {
		t.Fatal(err)
	}
	edits := []struct {
		what string
		list *crdt.List
		edit func(*crdt.List) error
	}{
		{"an item before the others", l, func(l *crdt.List) error { return l.Add(c, "item 00", 1) }},
		{"an item between others", l, func(l *crdt.List) error { return l.Add(c, "item 07", 2) }},
		{"an item after the others", l, func(l *crdt.List) error { return l.Add(c, "item 99", 1) }},
		{"an item changed", l, func(l *crdt.List) error { return l.Buy(c, "item 07", 1) }},
		{"the list renamed", l, func(l *crdt.List) error { return l.Rename(c, "monthly") }},
		{"15 items become 16", l, func(l *crdt.List) error {
			for i := 20; l.Len() < 16; i++ {
				if err := l.Add(c, fmt.Sprintf("item %02d", i), 1); err != nil {
					return err
				}
			}
			return nil
		}},
		{"a name part where there was none", unnamed, func(l *crdt.List) error { return l.Rename(c, "now named") }},
		{"an item of a list without a name part", unnamed, func(l *crdt.List) error { return l.Add(c, "bread", 1) }},
	}
	mustSave(t, s, l)
	mustSave(t, s, unnamed)
	for _, e := range edits {
		if _, err := s.LoadEncoded(e.list.ID()); err != nil {
			t.Fatal(err)
		}
		if e.what == "an item of a list without a name part" {
			// Start again from an entry assembled without a name part.
			unnamed = crdt.Empty(uuid.New())
			if err := unnamed.Add(c, "milk", 1); err != nil {
				t.Fatal(err)
			}
			mustSave(t, s, unnamed)
			if _, err := s.LoadEncoded(unnamed.ID()); err != nil {
				t.Fatal(err)
			}
			e.list = unnamed
		}
		before := e.list.MaxStamp()
		if err := e.edit(e.list); err != nil {
			t.Fatal(err)
		}
		if !mustSave(t, s, e.list.Delta(before)) {
			t.Fatalf("%s: the write changed nothing", e.what)
		}
		got, ok := s.CachedEncoded(e.list.ID())
		if !ok {
			t.Fatalf("%s: the write dropped the cached encoding", e.what)
		}
		if want := mustLoad(t, s, e.list.ID()).Encode(); !bytes.Equal(got, want) {
			t.Fatalf("%s: cached encoding after the write\n got %x\nwant %x", e.what, got, want)
		}
	}
	before := l.MaxStamp()
	if err := l.Remove(c, "item 00"); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, l.Delta(before))
	if _, ok := s.CachedEncoded(l.ID()); ok {
		t.Fatal("a whole-list write left an entry it did not splice")
	}
	sameEncoding(t, s, l.ID())
}

// TestPatchOfTheStateItHoldsIsTheSame: the writes a refresh splices in set
// parts to what is stored, so splicing them into an encoding that already
// holds them (one a reader cached after the commit) changes nothing.
func TestPatchOfTheStateItHoldsIsTheSame(t *testing.T) {
	s := openWithCache(t, -1)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "weekly", "bread", "eggs", "milk")
	mustSave(t, s, l)
	before := l.MaxStamp()
	if err := l.Add(c, "apples", 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Buy(c, "eggs", 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Rename(c, "monthly"); err != nil {
		t.Fatal(err)
	}
	k := keyOf(l.ID())
	var writes []partWrite
	for _, p := range l.Delta(before).Split() {
		pk, _ := partOf(k, p)
		writes = append(writes, partWrite{pk, p.Encode()})
	}
	mustSave(t, s, l)
	enc, lay, err := s.assemble(k)
	if err != nil {
		t.Fatal(err)
	}
	got, gotLay, ok := patch(enc, lay, writes)
	if !ok || !bytes.Equal(got, enc) {
		t.Fatalf("patching the state after the writes: ok %v\n got %x\nwant %x", ok, got, enc)
	}
	if fmt.Sprint(gotLay) != fmt.Sprint(lay) {
		t.Fatalf("layout after patching: %v, want %v", gotLay, lay)
	}
}

// TestWritesWaitForTheNextRead: writes to a cached list that is not read
// wait in its entry, at most maxPending parts of them, and the read after
// many such writes is the state they left.
func TestWritesWaitForTheNextRead(t *testing.T) {
	s := openWithCache(t, 1<<20)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "weekly", "milk")
	mustSave(t, s, l)
	if _, err := s.LoadEncoded(l.ID()); err != nil {
		t.Fatal(err)
	}
	k := keyOf(l.ID())
	most := 0
	for i := range 3 * maxPending {
		before := l.MaxStamp()
		if err := l.Add(c, fmt.Sprintf("item %d", i%40), 1); err != nil {
			t.Fatal(err)
		}
		mustSave(t, s, l.Delta(before))
		s.encoded.mu.Lock()
		e, ok := s.encoded.entries[l.ID()]
		if !ok {
			s.encoded.mu.Unlock()
			t.Fatalf("write %d dropped the entry", i)
		}
		n := len(e.Value.(*encodedEntry).pending)
		s.encoded.mu.Unlock()
		if n > maxPending {
			t.Fatalf("after write %d the entry keeps %d parts pending, more than %d", i, n, maxPending)
		}
		most = max(most, n)
	}
	if most < maxPending {
		t.Fatalf("at most %d parts were ever pending: writes are not waiting for a read", most)
	}
	got, ok := s.CachedEncoded(l.ID())
	if want := mustLoad(t, s, k.id()).Encode(); !ok || !bytes.Equal(got, want) {
		t.Fatalf("read after %d writes: hit %v, equal %v", 3*maxPending, ok, bytes.Equal(got, want))
	}
	if _, _, ok := s.CachedState(l.ID()); !ok {
		t.Fatal("no hash for the cached state")
	}
}
