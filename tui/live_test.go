package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/client/replica"
	"shoplist/crdt"
)

// highlighted reports whether the screen's row for text is highlighted.
func highlighted(s, text string) bool { return strings.HasPrefix(lineWith(s, text), "▌") }

// TestLiveUpdateAppearsHighlighted checks that another user's edit, merged
// by the engine and announced as an event, shows within a second without a
// key press, highlighted for a moment, and only on the edited rows. The
// store poll is off, so only the event can bring it.
func TestLiveUpdateAppearsHighlighted(t *testing.T) {
	local, remote, eng := openStore(t), openStore(t), newFakeEngine(online)
	id := mustCreate(t, local, "Shared", "milk", "bread 2")
	share(t, local, remote, id)
	h := startOnList(t, local, eng, "Shared", itemRow(false, "milk", 1, 0, 1))

	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, "eggs", 6) })
	sent := time.Now()
	h.waitFor("eggs shown highlighted", func(s string) bool { return highlighted(s, "eggs") }, time.Second)
	seen := time.Now()
	h.waitMatch(itemRow(false, "eggs", 6, 0, 6))
	if s := h.screen(); highlighted(s, "milk") || highlighted(s, "bread") {
		t.Fatalf("rows nobody edited are highlighted:\n%s", s)
	}
	h.waitFor("highlight ends", func(s string) bool { return lineWith(s, "eggs") != "" && !highlighted(s, "eggs") }, 5*time.Second)
	if lit := time.Since(seen); lit < highlightDuration/2 {
		t.Fatalf("highlight lasted %v (shown %v after the event), want about %v", lit, seen.Sub(sent), highlightDuration)
	}

	// A remote check-off moves the row down, checked and highlighted; a
	// remote rename shows in the title.
	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Buy(c, "milk", 1) })
	h.waitFor("milk checked, last, highlighted", func(s string) bool {
		return highlighted(s, "[✓] milk") && lineIndex(s, "milk") > lineIndex(s, "eggs") && lineIndex(s, "milk") > lineIndex(s, "bread")
	}, time.Second)
	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Rename(c, "Shared by two") })
	h.waitText("Shared by two · 2 of 3 left", "▌renamed")
}

// TestLiveUpdateOnListsScreen checks the lists screen follows remote edits.
func TestLiveUpdateOnListsScreen(t *testing.T) {
	local, remote, eng := openStore(t), openStore(t), newFakeEngine(online)
	id := mustCreate(t, local, "Shared", "milk")
	mustCreate(t, local, "Quiet")
	share(t, local, remote, id)
	h := start(t, local, eng, Options{}, nil)
	h.waitLine("Shared", "1 / 1")

	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, "tea", 1) })
	h.waitFor("Shared updated and highlighted", func(s string) bool {
		return highlighted(s, "Shared") && strings.Contains(lineWith(s, "Shared"), "2 / 2")
	}, time.Second)
	if highlighted(h.screen(), "Quiet") {
		t.Fatalf("an unchanged list is highlighted:\n%s", h.screen())
	}
}

// TestOtherProcessEditAppears checks that an edit made through another
// Store on the same data dir (the command line, say), with no engine event,
// is noticed through Store.Generation and shown.
func TestOtherProcessEditAppears(t *testing.T) {
	dir := t.TempDir()
	open := func() *replica.Store {
		s, err := replica.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	mine, cli := open(), open()
	id := mustCreate(t, mine, "Home", "soap")
	eng := newFakeEngine(online)
	h := start(t, mine, eng, Options{}, func(m *model) { m.poll = 50 * time.Millisecond })
	h.waitLine("Home")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "soap", 1, 0, 1))

	mustEdit(t, cli, id, func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, "sponges", 4) })
	h.waitFor("sponges shown highlighted", func(s string) bool { return highlighted(s, "sponges") })
	h.waitMatch(itemRow(false, "sponges", 4, 0, 4))

	h.press(tea.KeyEsc)
	h.waitLine("Home", "2 / 2")
	created := mustCreate(t, cli, "From the CLI")
	h.waitLine("From the CLI", "empty")
	if err := cli.Forget(created, true); err != nil {
		t.Fatal(err)
	}
	h.waitFor("forgotten list gone", func(s string) bool { return !strings.Contains(s, "From the CLI") })
}
