package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/crdt"
)

// TestDeleteAsksThenShowsTheListDeleted: D on the lists screen asks,
// naming the list; n changes nothing; y deletes it for everyone (pushed),
// the row says so, its items stay readable and refuse edits, and D on the
// list screen restores it after asking again.
func TestDeleteAsksThenShowsTheListDeleted(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	id := mustCreate(t, store, "Weekend", "milk 2")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Weekend", "1 / 1")

	h.typeText("D")
	h.waitText("Delete “Weekend” for everyone?")
	h.typeText("n")
	h.waitFor("dialog closed", func(s string) bool { return !strings.Contains(s, "for everyone?") })
	if mustGet(t, store, id).List.Deleted() {
		t.Fatal("n deleted the list")
	}

	h.typeText("D")
	h.waitText("Delete “Weekend” for everyone?")
	h.typeText("y")
	h.waitLine("Weekend · deleted by you")
	h.waitText("deleted “Weekend” for everyone")
	if !mustGet(t, store, id).List.Deleted() {
		t.Fatal("y did not delete the list")
	}
	h.waitFor("the delete pushed", func(string) bool { return len(eng.kicked()) > 0 })

	h.press(tea.KeyEnter)
	h.waitText("Weekend · deleted by you", "read only · D restores")
	h.waitMatch(itemRow(false, "milk", 2, 0, 2))
	h.press(tea.KeySpace)
	h.waitText("was deleted by you: D restores it for everyone")
	if v, _ := mustGet(t, store, id).List.Lookup("milk"); v.Bought != 0 {
		t.Fatalf("a deleted list took a check-off: %+v", v)
	}

	h.typeText("D")
	h.waitText("Restore “Weekend” for everyone?", "It was deleted by you.")
	h.typeText("y")
	h.waitText("restored “Weekend” for everyone", "Weekend · 1 of 1 left")
	if mustGet(t, store, id).List.Deleted() {
		t.Fatal("the list is still deleted")
	}
	// Undo takes the restore back, as any edit made here.
	h.typeText("u")
	h.waitText("Weekend · deleted by you")
}

// TestARemoteDeleteShowsWhoDeletedIt: a collaborator's delete arrives as a
// live update; the lists screen names them.
func TestARemoteDeleteShowsWhoDeletedIt(t *testing.T) {
	local, remote, eng := openStore(t), openStore(t), newFakeEngine(online)
	id := mustCreate(t, local, "Shared", "milk")
	share(t, local, remote, id)
	if err := remote.SetAuthor("Bob"); err != nil {
		t.Fatal(err)
	}
	h := start(t, local, eng, Options{}, nil)
	h.waitLine("Shared", "1 / 1")
	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Delete(c) })
	h.waitFor("Shared shown deleted by Bob, highlighted", func(s string) bool {
		return highlighted(s, "Shared · deleted by Bob")
	}, time.Second)
}

// TestRemoteEditsSayWhoMadeThem: while a collaborator's edit is
// highlighted, its row says what they did and who they are; one's own
// edits, and edits by collaborators without a name, say nothing.
func TestRemoteEditsSayWhoMadeThem(t *testing.T) {
	local, remote, eng := openStore(t), openStore(t), newFakeEngine(online)
	if err := local.SetAuthor("Alice"); err != nil {
		t.Fatal(err)
	}
	id := mustCreate(t, local, "Shared", "milk", "bread")
	share(t, local, remote, id)
	h := startOnList(t, local, eng, "Shared", itemRow(false, "milk", 1, 0, 1))

	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, "tea", 2) })
	h.waitFor("unnamed add highlighted", func(s string) bool { return highlighted(s, "tea") }, time.Second)
	if strings.Contains(h.screen(), " by ") {
		t.Fatalf("an edit by a collaborator without a name is credited:\n%s", h.screen())
	}

	if err := remote.SetAuthor("Bob"); err != nil {
		t.Fatal(err)
	}
	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Buy(c, "milk", 1) })
	h.waitFor("milk: bought by Bob", func(s string) bool { return highlighted(s, "milk · bought by Bob") }, time.Second)
	eng.remoteEdit(t, local, remote, id, func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, "eggs", 6) })
	h.waitFor("eggs: added by Bob", func(s string) bool { return highlighted(s, "eggs · added by Bob") }, time.Second)
	h.waitFor("the credit goes with the highlight", func(s string) bool {
		return lineWith(s, "eggs") != "" && !strings.Contains(s, "added by Bob")
	}, 5*time.Second)

	h.typeText("a")
	h.typeText("jam")
	h.press(tea.KeyEnter)
	h.press(tea.KeyEsc)
	h.waitMatch(itemRow(false, "jam", 1, 0, 1))
	if v, _ := mustGet(t, local, id).List.Lookup("jam"); v.By() != "Alice" {
		t.Fatalf("own add signed %q, want Alice", v.By())
	}
	if strings.Contains(lineWith(h.screen(), "jam"), "by") {
		t.Fatalf("one's own edit is credited:\n%s", h.screen())
	}
}
