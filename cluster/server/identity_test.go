package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"shoplist/internal/atomicfile"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// TestPersistentID: a new directory gets a generated ID, kept in a file; a
// restart on the same directory comes back with the same ID and the same
// data, and says hello under it; an explicit different ID is refused,
// naming both; an explicit ID is used for a new directory.
func TestPersistentID(t *testing.T) {
	p := newFakeProxy(t)
	dir := t.TempDir()
	cfg := Config{Dir: dir, Proxies: []string{p.dial()}, Logger: testLogger(t)}
	s, err := Start(context.Background(), cfg)
	must(t, err)
	id := s.ID()
	if !regexp.MustCompile(`^srv-[0-9a-f]{8}$`).MatchString(id) || protocol.CheckServerID(id) != nil {
		t.Fatalf("generated ID %q", id)
	}
	p.welcome(1)
	l := newList(t, time.Now, "milk")
	p.call(p.storeMsg(l))
	must(t, s.Close())
	raw, err := os.ReadFile(filepath.Join(dir, idFile))
	if err != nil || strings.TrimSpace(string(raw)) != id {
		t.Fatalf("ID file holds %q (%v), want %q", raw, err, id)
	}

	for _, want := range []string{"", id} {
		cfg.ID = want
		s, err = Start(context.Background(), cfg)
		must(t, err)
		if s.ID() != id {
			t.Fatalf("restart with ID %q: server ID %q, want %q", want, s.ID(), id)
		}
		if got := p.welcome(1); got != id {
			t.Fatalf("restarted server says hello as %q, want %q", got, id)
		}
		if r := p.call(protocol.NewFetch(p.id(), 0, l.ID())); itemsOf(t, r.Body) != "milk" {
			t.Fatalf("restarted server lost the list: %v", r.Type)
		}
		must(t, s.Close())
	}

	cfg.ID = "other-7"
	_, err = Start(context.Background(), cfg)
	if !errors.Is(err, ErrIDMismatch) || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), "other-7") {
		t.Fatalf("restart with another ID: %v; want ErrIDMismatch naming %q and other-7", err, id)
	}

	fresh := Config{Dir: t.TempDir(), ID: "s1", Proxies: []string{p.dial()}, Logger: testLogger(t)}
	s, err = Start(context.Background(), fresh)
	must(t, err)
	defer s.Close()
	if s.ID() != "s1" {
		t.Fatalf("explicit ID on a new directory: %q", s.ID())
	}
}

// TestIDFileProblems: an unreadable or invalid ID file stops the start with
// an error naming the file, and the store is released (a second start with
// the file fixed succeeds).
func TestIDFileProblems(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, idFile)
	must(t, os.WriteFile(path, []byte("not an id!\n"), 0o644))
	cfg := Config{Dir: dir, Proxies: []string{curvekey.JoinEndpoint("tcp://127.0.0.1:1", newKeyPair(t).Public)}, Logger: testLogger(t)}
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("start with a bad ID file: %v, want an error naming %s", err, path)
	}
	must(t, os.WriteFile(path, []byte("s9\n"), 0o644))
	s, err := Start(context.Background(), cfg)
	must(t, err)
	defer s.Close()
	if s.ID() != "s9" {
		t.Fatalf("ID %q, want s9", s.ID())
	}
}

// TestWriteFileAtomic: the file is replaced whole and no temporary file is
// left behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	must(t, atomicfile.WriteFile(path, []byte("one")))
	must(t, atomicfile.WriteFile(path, []byte("two")))
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("file holds %q (%v)", got, err)
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the file", len(entries))
	}
}
