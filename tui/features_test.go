package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/client/replica"
	"shoplist/crdt"
)

// openList starts the UI over store and opens the list named name.
func openList(t *testing.T, store *replica.Store, name string) *harness {
	t.Helper()
	h := start(t, store, newFakeEngine(online), Options{}, nil)
	h.waitLine(name)
	h.cursorTo("› " + name)
	h.press(tea.KeyEnter)
	h.waitText(name + " · ")
	return h
}

// cursorTo moves the cursor down until a line of the screen holds text.
func (h *harness) cursorTo(text string) {
	h.t.Helper()
	for range 50 {
		s := h.screen()
		if lineWith(s, text) != "" {
			return
		}
		h.press(tea.KeyDown)
		h.waitFor("the cursor to move", func(now string) bool { return now != s })
	}
	h.t.Fatalf("no line with %q:\n%s", text, h.screen())
}

// TestCategoriesGroupTheList checks c and n set an item's category and
// note, and that the list shows the items under their categories, named
// ones in alphabetical order and the uncategorised last.
func TestCategoriesGroupTheList(t *testing.T) {
	store := openStore(t)
	id := mustCreate(t, store, "Weekly", "apples", "milk 2", "stamps")
	mustEdit(t, store, id, func(l *crdt.List, c *crdt.Clock) error { return l.SetCategory(c, "apples", "Produce") })
	h := openList(t, store, "Weekly")
	h.waitText("Produce · 1 of 1 left", "uncategorised · 2 of 2 left")

	// Put milk in Dairy with c, and give it a note with n.
	h.cursorTo("› [ ] milk")
	h.typeText("c")
	h.waitText("Category of “milk”")
	h.typeText("Dairy")
	h.press(tea.KeyEnter)
	h.waitText("Dairy · 1 of 1 left")
	h.typeText("n")
	h.waitText("Note on “milk”")
	h.typeText("semi-skimmed")
	h.press(tea.KeyEnter)
	h.waitLine("milk · semi-skimmed", "2")
	s := h.screen()
	d, m, p, u, st := lineIndex(s, "Dairy ·"), lineIndex(s, "milk ·"), lineIndex(s, "Produce ·"), lineIndex(s, "uncategorised ·"), lineIndex(s, "stamps")
	if !(d < m && m < p && p < u && u < st) {
		t.Fatalf("groups out of order (Dairy %d, milk %d, Produce %d, uncategorised %d, stamps %d):\n%s", d, m, p, u, st, s)
	}
	v, _ := mustGet(t, store, id).List.Lookup("milk")
	if v.Category != "Dairy" || v.Note != "semi-skimmed" {
		t.Fatalf("milk in the store: %+v", v)
	}
}

// TestClearBoughtAsksWithTheCount checks C asks, with how many, before it
// removes every bought item.
func TestClearBoughtAsksWithTheCount(t *testing.T) {
	store := openStore(t)
	id := mustCreate(t, store, "Shop", "milk", "eggs 6", "bread")
	mustEdit(t, store, id, func(l *crdt.List, c *crdt.Clock) error {
		if err := l.Buy(c, "milk", 1); err != nil {
			return err
		}
		return l.Buy(c, "eggs", 6)
	})
	h := openList(t, store, "Shop")
	h.waitMatch(itemRow(true, "eggs", 6, 6, 0))
	h.typeText("C")
	h.waitText("Clear 2 bought items?", "eggs, milk")
	h.typeText("y")
	h.waitText("cleared 2 bought items")
	h.waitFor("only bread left", func(s string) bool {
		return lineWith(s, "[ ] bread") != "" && !strings.Contains(s, "milk") && !strings.Contains(s, "eggs")
	})
	if n := len(mustGet(t, store, id).List.Items()); n != 1 {
		t.Fatalf("%d items left in the store", n)
	}
}

// TestUndo checks u undoes the last edits one by one, more than twenty of
// them, a remove (quantities, category and note come back) and a clear,
// each as a new edit.
func TestUndo(t *testing.T) {
	store := openStore(t)
	id := mustCreate(t, store, "Shop", "milk 3", "bread")
	mustEdit(t, store, id, func(l *crdt.List, c *crdt.Clock) error {
		if err := l.SetCategory(c, "milk", "Dairy"); err != nil {
			return err
		}
		if err := l.SetNote(c, "milk", "oat"); err != nil {
			return err
		}
		return l.Buy(c, "milk", 1)
	})
	h := openList(t, store, "Shop")
	h.cursorTo("› [ ] milk")
	const n = 22
	for i := range n {
		h.typeText("+")
		h.waitMatch(itemRow(false, "milk · oat", 4+i, 1, 3+i))
	}
	h.typeText("x")
	h.waitText("removed “milk”")
	h.waitFor("milk gone", func(s string) bool { return lineWith(s, "] milk") == "" })

	h.typeText("u")
	h.waitText("undone: removed “milk”")
	h.waitMatch(itemRow(false, "milk · oat", 3+n, 1, 2+n))
	v, _ := mustGet(t, store, id).List.Lookup("milk")
	if v.Category != "Dairy" || v.Note != "oat" || v.Bought != 1 || v.Wanted != 3+n {
		t.Fatalf("milk after undoing its remove: %+v", v)
	}
	for i := n - 1; i >= 0; i-- {
		h.typeText("u")
		h.waitMatch(itemRow(false, "milk · oat", 3+i, 1, 2+i))
	}

	// Clear, then undo it.
	h.cursorTo("› [ ] bread")
	h.typeText(" ")
	h.waitMatch(itemRow(true, "bread", 1, 1, 0))
	h.typeText("C")
	h.waitText("Clear 1 bought item?")
	h.typeText("y")
	h.waitFor("bread cleared", func(s string) bool { return lineWith(s, "] bread") == "" })
	h.typeText("u")
	h.waitMatch(itemRow(true, "bread", 1, 1, 0))
	h.typeText("u")
	h.waitMatch(itemRow(false, "bread", 1, 0, 1))
	h.typeText("u")
	h.waitText("✗ nothing to undo")
	if got := fmt.Sprint(len(mustGet(t, store, id).List.Items())); got != "2" {
		t.Fatalf("%s items in the store, want 2", got)
	}
}

// TestSearchWithinAList checks / shows the items whose name, category or
// note match, and esc shows them all again.
func TestSearchWithinAList(t *testing.T) {
	store := openStore(t)
	id := mustCreate(t, store, "Shop", "milk", "cheese", "bread", "nails")
	mustEdit(t, store, id, func(l *crdt.List, c *crdt.Clock) error {
		if err := l.SetCategory(c, "milk", "Dairy"); err != nil {
			return err
		}
		if err := l.SetCategory(c, "cheese", "Dairy"); err != nil {
			return err
		}
		return l.SetNote(c, "nails", "for the dairy shelf")
	})
	h := openList(t, store, "Shop")
	h.waitLine("bread")
	h.typeText("/dairy")
	h.waitFor("dairy items only", func(s string) bool {
		return lineWith(s, "milk") != "" && lineWith(s, "cheese") != "" && lineWith(s, "nails") != "" && lineWith(s, "bread") == ""
	})
	h.typeText("q") // text while searching
	h.waitText("No item matches “dairyq”")
	h.press(tea.KeyEsc)
	h.waitLine("bread")
	h.waitLine("milk")
}

// TestAddSuggestsNamesFromEveryList checks the add dialog completes names
// used in other local lists too.
func TestAddSuggestsNamesFromEveryList(t *testing.T) {
	store := openStore(t)
	mustCreate(t, store, "Last week", "Oat milk")
	mustCreate(t, store, "This week", "bread")
	h := openList(t, store, "This week")
	h.waitLine("bread")
	h.typeText("a")
	h.typeText("oat")
	h.press(tea.KeyTab)
	h.waitText("› Oat milk")
}
