package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoplist/protocol"
	"shoplist/testing/diskfault"
)

// restartOn closes s and starts a server on its directory and a fresh fake
// proxy, which welcomes it.
func restartOn(t *testing.T, s *Server, damage func(dir string)) (*Server, *fakeProxy) {
	t.Helper()
	dir := s.cfg.Dir
	must(t, s.Close())
	damage(dir)
	return startWelcomed(t, func(c *Config) { c.Dir = dir })
}

// TestAServerHealsADamagedValueAndSaysSo: after a disk fault under one
// value, the server answers a Fetch with what is left of the list (so that
// read repair and anti-entropy see it differ), takes a Store of the whole
// list at once, and reports the heal.
func TestAServerHealsADamagedValueAndSaysSo(t *testing.T) {
	s, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk", "eggs")
	if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
		t.Fatalf("store: %v", r.Type)
	}
	s, p = restartOn(t, s, func(dir string) {
		_, err := diskfault.FlipValue(dir, l.ID(), "milk")
		must(t, err)
	})

	r := p.call(protocol.NewFetch(p.id(), 0, l.ID()))
	if r.Type != protocol.TypeFetchReply || itemsOf(t, r.Body) != "eggs" {
		t.Fatalf("fetch of a list with a damaged item: %v with items %q, want what is left (eggs)", r.Type, itemsOf(t, r.Body))
	}
	if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
		t.Fatalf("store of the whole list after the heal: %v (%v)", r.Type, r.Err())
	}
	r = p.call(protocol.NewFetch(p.id(), 0, l.ID()))
	if !bytes.Equal(r.Body, l.Encode()) {
		t.Fatalf("after the store the list has items %q, want %q", itemsOf(t, r.Body), l.ItemKeys())
	}
	p.serveUntil("a report of the heal", nil, func() bool {
		b := p.lastReport().body
		return b.Healed == 1 && b.Damaged == 0 && !b.Reset && b.Lists == 1
	})
	if st := s.Stats(); st.Healed != 1 || st.Damaged != 0 || st.SetAside != "" {
		t.Fatalf("Stats %+v, want one heal and nothing else", st)
	}
}

// TestAServerWhoseStoreIsCorruptStartsOnAnEmptyOne: a flipped byte in a
// table file no longer keeps the server down: it sets the files aside,
// starts empty with the same ID, says so in its log and its report, and
// takes writes.
func TestAServerWhoseStoreIsCorruptStartsOnAnEmptyOne(t *testing.T) {
	s, p := startWelcomed(t, nil)
	id := s.ID()
	l := newList(t, time.Now, "milk")
	if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
		t.Fatalf("store: %v", r.Type)
	}
	dir := s.cfg.Dir
	s, p = restartOn(t, s, func(dir string) {
		_, err := diskfault.FlipTables(dir)
		must(t, err)
	})
	if s.ID() != id {
		t.Fatalf("the server came back as %s, want %s", s.ID(), id)
	}
	st := s.Stats()
	if !strings.HasPrefix(st.SetAside, filepath.Clean(dir)+".corrupt-") || st.Lists != 0 {
		t.Fatalf("Stats %+v, want an empty store and the corrupt one set aside beside %s", st, dir)
	}
	if _, err := os.Stat(filepath.Join(st.SetAside, "pebble")); err != nil {
		t.Fatalf("the corrupt files are not where Stats says: %v", err)
	}
	p.serveUntil("a report of the reset", nil, func() bool { return p.lastReport().body.Reset })
	if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
		t.Fatalf("store on the new store: %v (%v)", r.Type, r.Err())
	}
}
