package tui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
)

var online = syncer.Status{Conn: syncer.Online, Proxy: "tcp://127.0.0.1:5555"}

// TestCreateAddCheckOff drives the main flow: create a list, add items with
// quantities, check one off (it is checked and sorts after the rest), buy
// one more, uncheck, go back and open the list again.
func TestCreateAddCheckOff(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	h := start(t, store, eng, Options{Proxy: online.Proxy}, nil)
	h.waitText("No lists yet")

	h.typeText("n")
	h.waitText("New list")
	h.typeText("Groceries")
	h.press(tea.KeyEnter)
	h.waitText("Groceries · 0 of 0 left", "No items yet")
	all, err := store.All()
	if err != nil || len(all) != 1 || all[0].List.Name() != "Groceries" {
		t.Fatalf("store after create: %v, %v", all, err)
	}
	id := all[0].List.ID()
	if !slices.Contains(eng.kicked(), id) {
		t.Errorf("create did not kick the engine for %s: %v", id, eng.kicked())
	}

	// The add dialog stays open for the next item until esc.
	h.typeText("a")
	h.waitText("Add to “Groceries”")
	for _, add := range []string{"milk 2", "bread", "apples 3"} {
		h.typeText(add)
		h.press(tea.KeyEnter)
		name, qty, _ := parseAdd(add)
		h.waitMatch(itemRow(false, name, int(qty), 0, int(qty)))
		h.waitText("Add to “Groceries”", "› ")
	}
	h.press(tea.KeyEsc)
	h.waitFor("the add dialog closed", func(s string) bool { return !strings.Contains(s, "Add to") })
	h.waitText("Groceries · 3 of 3 left")
	if n := countOf(eng.kicked(), id); n != 4 {
		t.Errorf("the engine was kicked %d times for the list, want 4 (create and 3 adds)", n)
	}
	if v, ok := mustGet(t, store, id).List.Lookup("milk"); !ok || v.Wanted != 2 {
		t.Fatalf("milk in the store: %+v %v", v, ok)
	}

	// The cursor is on the item just added (apples, first); bread is next.
	h.press(tea.KeyDown)
	h.typeText(" ")
	h.waitMatch(itemRow(true, "bread", 1, 1, 0))
	s := h.screen()
	if a, m, b := lineIndex(s, "apples"), lineIndex(s, "milk"), lineIndex(s, "bread"); !(a < m && m < b) {
		t.Fatalf("checked bread should sort after apples and milk (lines %d, %d, %d):\n%s", a, m, b, s)
	}
	h.waitText("Groceries · 2 of 3 left")
	if v, _ := mustGet(t, store, id).List.Lookup("bread"); !v.Acquired || v.Bought != 1 {
		t.Fatalf("bread in the store: %+v", v)
	}

	// The cursor kept its row: space now checks off both milks at once.
	h.typeText(" ")
	h.waitMatch(itemRow(true, "milk", 2, 2, 0))
	h.waitText("checked off 2 × milk")
	h.waitText("Groceries · 1 of 3 left")

	// Space on a checked item unchecks it, all that was bought.
	h.typeText("G")
	h.typeText(" ")
	h.waitMatch(itemRow(false, "milk", 2, 0, 2))
	h.waitText("unchecked milk")
	h.waitStore("milk unbought", id, func(e replica.Entry) bool {
		v, _ := e.List.Lookup("milk")
		return !v.Acquired && v.Bought == 0
	})

	h.press(tea.KeyEsc)
	h.waitLine("Groceries", "2 / 3", "pending")
	h.press(tea.KeyEnter)
	h.waitText("Groceries · 2 of 3 left")
}

func countOf[T comparable](s []T, v T) (n int) {
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestAddAutocompletesUsedNames checks that the add prompt completes names
// used in the list, the removed ones included, and that tab accepts.
func TestAddAutocompletesUsedNames(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	id := mustCreate(t, store, "Pantry", "Bananas", "Milk")
	mustEdit(t, store, id, func(l *crdt.List, c *crdt.Clock) error { return l.Remove(c, "Bananas") })
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Pantry")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "Milk", 1, 0, 1))

	h.typeText("a")
	h.typeText("ban")
	h.waitText("› bananas") // the completion shown after what was typed
	h.press(tea.KeyTab)
	h.waitText("› Bananas") // tab completes to the name as it is displayed
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "Bananas", 1, 0, 1))

	h.typeText("Mi")
	h.waitText("› Milk")
	h.press(tea.KeyTab)
	h.typeText(" 2")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "Milk", 3, 0, 3))
	if v, _ := mustGet(t, store, id).List.Lookup("milk"); v.Wanted != 3 {
		t.Fatalf("milk wanted %d, want 3", v.Wanted)
	}
}

// TestOverBuyShowsError checks that buying more than remains is refused
// with a message in the status area, and the UI goes on working.
func TestOverBuyShowsError(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	id := mustCreate(t, store, "Shop", "milk 2")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Shop")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "milk", 2, 0, 2))

	h.typeText("b")
	h.waitText("Buy how many “milk”?", "› 2")
	h.press(tea.KeyCtrlU)
	h.typeText("5")
	h.press(tea.KeyEnter)
	h.waitText("✗ buying more than remains")
	if v, _ := mustGet(t, store, id).List.Lookup("milk"); v.Bought != 0 {
		t.Fatalf("an over-buy changed the store: %+v", v)
	}

	h.typeText("b")
	h.press(tea.KeyCtrlU)
	h.typeText("2")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(true, "milk", 2, 2, 0))
	h.waitText("bought 2 × milk")
}

// TestQuantityRemoveRenameShare covers + / - (never below 1), x, r and s.
func TestQuantityRemoveRenameShare(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	id := mustCreate(t, store, "Weekly", "milk 2", "eggs")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Weekly")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "eggs", 1, 0, 1))
	h.press(tea.KeyDown) // milk

	h.typeText("+")
	h.waitMatch(itemRow(false, "milk", 3, 0, 3))
	h.typeText("--")
	h.waitMatch(itemRow(false, "milk", 1, 0, 1))
	h.typeText("-")
	h.waitText("quantity is already 1")
	if v, _ := mustGet(t, store, id).List.Lookup("milk"); v.Wanted != 1 {
		t.Fatalf("milk wanted %d, want 1", v.Wanted)
	}

	h.typeText("x")
	h.waitText("removed “milk”")
	h.waitFor("milk gone", func(s string) bool { return !strings.Contains(s, "milk ") && strings.Contains(s, "eggs") })
	if _, ok := mustGet(t, store, id).List.Lookup("milk"); ok {
		t.Fatal("milk still in the store")
	}

	h.typeText("r")
	h.waitText("Rename the list", "› Weekly")
	h.press(tea.KeyCtrlU)
	h.typeText("Saturday market")
	h.press(tea.KeyEnter)
	h.waitText("Saturday market · 1 of 1 left")
	if n := mustGet(t, store, id).List.Name(); n != "Saturday market" {
		t.Fatalf("name in the store %q", n)
	}

	h.typeText("s")
	h.waitText("Share “Saturday market”", id.String(), "OSC 52")
	seq := osc52(id.String(), false)
	h.waitFor("the ID copied with OSC 52", func(string) bool { return h.wrote(seq) > 0 })
	h.typeText("c")
	h.waitText("Copied again (2×)")
	h.waitFor("copy again: the line that carries the sequence drawn anew", func(string) bool {
		return h.wrote(seq+styles.dialogHint.Render("Copied again (2×)")) > 0
	})
	h.press(tea.KeyEsc)
	h.waitFor("share dialog closed", func(s string) bool { return !strings.Contains(s, "Share “") })
}

// TestQuitOnlyWhenNotTyping checks that q is text in an input and quits
// elsewhere.
func TestQuitOnlyWhenNotTyping(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	mustCreate(t, store, "Shop")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Shop")
	h.press(tea.KeyEnter)
	h.waitText("No items yet")
	h.typeText("a")
	h.typeText("quinoa q")
	h.waitText("› quinoa q")
	h.press(tea.KeyEsc) // cancels the input, stays on the list
	h.waitFor("prompt closed", func(s string) bool { return !strings.Contains(s, "Add to") })
	h.typeText("a")
	h.typeText("quinoa")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "quinoa", 1, 0, 1))
	h.typeText("q") // still in the add dialog: text
	h.waitText("› q")
	h.press(tea.KeyEsc)
	h.waitFor("prompt closed", func(s string) bool { return !strings.Contains(s, "Add to") })
	h.typeText("q")
	h.tm.WaitFinished(t, teatestTimeout)
}

// TestSpaceChecksOffTheWholeItem checks that one space checks off an item
// whatever its quantity, a second unchecks it, and each says what it did.
func TestSpaceChecksOffTheWholeItem(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	id := mustCreate(t, store, "Shop", "widgets 3")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Shop")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "widgets", 3, 0, 3))
	h.typeText(" ")
	h.waitMatch(itemRow(true, "widgets", 3, 3, 0))
	h.waitText("checked off 3 × widgets")
	h.typeText(" ")
	h.waitMatch(itemRow(false, "widgets", 3, 0, 3))
	h.waitText("unchecked widgets")
	if v, _ := mustGet(t, store, id).List.Lookup("widgets"); v.Bought != 0 {
		t.Fatalf("widgets in the store: %+v", v)
	}
}

// TestAddRefusesQuantitiesOutOfRange checks the add prompt refuses a
// trailing number out of range, or a number alone, instead of making it
// part of the name.
func TestAddRefusesQuantitiesOutOfRange(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	id := mustCreate(t, store, "Shop")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Shop")
	h.press(tea.KeyEnter)
	h.waitText("No items yet")
	h.typeText("a")
	h.typeText("milk 99999999999999999999")
	h.press(tea.KeyEnter)
	h.waitText("✗ the quantity must be 1 to 1000000")
	h.press(tea.KeyCtrlU)
	h.typeText("2")
	h.press(tea.KeyEnter)
	h.waitText("✗ type an item name before the quantity")
	if n := len(mustGet(t, store, id).List.Items()); n != 0 {
		t.Fatalf("%d items added", n)
	}
}
