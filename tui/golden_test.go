package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/crdt"
)

// goldenList stores a list with a fixed ID and fixed stamps, as joined
// (nothing unpushed), so that its screens are the same on every run.
func goldenList(t *testing.T, store *replica.Store, id uuid.UUID, name string, edit func(l *crdt.List, c *crdt.Clock) error) replica.Entry {
	t.Helper()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := crdt.NewClockWith(uuid.MustParse("00000000-0000-4000-8000-0000000000aa"), func() time.Time { return at })
	l := crdt.Empty(id)
	if err := l.Rename(c, name); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		if err := edit(l, c); err != nil {
			t.Fatal(err)
		}
	}
	e, _, err := store.Merge(l, true)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// bobEdits applies edit to the stored list id as Bob, a named collaborator,
// an hour after the golden lists were made, and merges it in as a pull
// would; it returns the entry after.
func bobEdits(t *testing.T, store *replica.Store, id uuid.UUID, edit func(l *crdt.List, c *crdt.Clock) error) replica.Entry {
	t.Helper()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	c := crdt.NewClockWith(uuid.MustParse("00000000-0000-4000-8000-0000000000bb"), func() time.Time { return at })
	if err := c.SetAuthor("Bob"); err != nil {
		t.Fatal(err)
	}
	e, err := store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	c.Observe(e.List.MaxStamp())
	if err := edit(e.List, c); err != nil {
		t.Fatal(err)
	}
	after, _, err := store.Merge(e.List, false)
	if err != nil {
		t.Fatal(err)
	}
	return after
}

// TestScreensAt80x24 compares every screen and dialog, drawn at 80×24
// without colours, with its golden file in testdata/TestScreensAt80x24
// (go test -run TestScreensAt80x24 ./tui -update rewrites them).
func TestScreensAt80x24(t *testing.T) {
	store := openStore(t)
	weekly := goldenList(t, store, uuid.MustParse("6f1c0e2a-9b3d-4c5e-8f70-112233445566"), "Weekly shop",
		func(l *crdt.List, c *crdt.Clock) error {
			for _, it := range []struct {
				name, cat, note string
				qty, bought     int64
			}{
				{"milk", "Dairy", "semi-skimmed", 2, 2},
				{"cheddar", "Dairy", "", 1, 0},
				{"apples", "Produce", "", 6, 0},
				{"bananas", "Produce", "not too ripe", 5, 0},
				{"bin bags", "", "", 1, 0},
				{"牛乳", "", "", 1, 0},
			} {
				if err := l.Add(c, it.name, it.qty); err != nil {
					return err
				}
				if err := l.SetCategory(c, it.name, it.cat); err != nil {
					return err
				}
				if err := l.SetNote(c, it.name, it.note); err != nil {
					return err
				}
				if it.bought > 0 {
					if err := l.Buy(c, it.name, it.bought); err != nil {
						return err
					}
				}
			}
			return nil
		})
	goldenList(t, store, uuid.MustParse("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"), "Hardware", func(l *crdt.List, c *crdt.Clock) error {
		return l.Add(c, "nails", 100)
	})
	big := goldenList(t, store, uuid.MustParse("9a8b7c6d-1234-4abc-8def-0123456789ab"), "Party", func(l *crdt.List, c *crdt.Clock) error {
		for i := range 40 {
			if err := l.Add(c, fmt.Sprintf("guest gift %02d", i), 1); err != nil {
				return err
			}
		}
		return nil
	})

	m := newModel(store, newFakeEngine(online), Options{Proxy: online.Proxy})
	t.Cleanup(m.stop)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	all, err := store.All()
	if err != nil {
		t.Fatal(err)
	}
	m.sh.status = online
	runes := func(s string) { m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }
	press := func(k tea.KeyType) { m.key(tea.KeyMsg{Type: k}) }
	screens := []struct {
		name string
		set  func()
	}{
		{"lists-empty", func() { m.lists.loaded(nil) }},
		{"lists", func() { m.lists.fresh = true; m.lists.loaded(all) }},
		{"lists-filter-no-match", func() { runes("/"); runes("grozzz") }},
		{"lists-forget", func() { press(tea.KeyEsc); press(tea.KeyEsc); runes("d") }},
		{"list-by-category", func() {
			press(tea.KeyEsc)
			m.open(weekly.List.ID(), &weekly)
		}},
		{"list-add", func() { runes("a"); runes("bread 2") }},
		{"list-category", func() { press(tea.KeyEsc); runes("c") }},
		{"list-clear", func() { press(tea.KeyEsc); runes("C") }},
		{"list-share", func() { runes("n"); runes("s") }},
		{"list-search", func() { press(tea.KeyEsc); runes("/"); runes("dairy") }},
		{"list-help", func() { press(tea.KeyEsc); runes("?") }},
		{"list-long", func() {
			runes("?")
			m.back()
			m.open(big.List.ID(), &big)
			for range 21 {
				press(tea.KeyDown)
			}
		}},
		{"list-bought-by", func() {
			m.back()
			m.open(weekly.List.ID(), &weekly)
			m.list.fresh = false // as after its first load
			m.list.loaded(bobEdits(t, store, weekly.List.ID(), func(l *crdt.List, c *crdt.Clock) error {
				if err := l.Add(c, "bread", 1); err != nil {
					return err
				}
				return l.Buy(c, "cheddar", 1)
			}))
		}},
		{"lists-deleted", func() {
			m.back()
			bobEdits(t, store, big.List.ID(), func(l *crdt.List, c *crdt.Clock) error { return l.Delete(c) })
			all, err := store.All()
			if err != nil {
				t.Fatal(err)
			}
			m.lists.fresh = true
			m.lists.loaded(all)
		}},
		{"lists-delete", func() { runes("D") }},
		{"list-deleted", func() {
			press(tea.KeyEsc)
			e, err := store.Get(big.List.ID())
			if err != nil {
				t.Fatal(err)
			}
			m.open(big.List.ID(), &e)
		}},
	}
	for _, sc := range screens {
		sc.set()
		t.Run(sc.name, func(t *testing.T) { golden.RequireEqual(t, []byte(ansi.Strip(m.View())+"\n")) })
	}
}
