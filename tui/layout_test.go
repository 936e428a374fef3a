package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// frameFits reports whether screen s is exactly w×h cells at most, with
// the header on its first line.
func frameFits(s string, w, h int) bool {
	lines := strings.Split(s, "\n")
	for _, l := range lines {
		if ansi.StringWidth(l) > w {
			return false
		}
	}
	return len(lines) == h && strings.Contains(lines[0], "shoplist")
}

// TestFilterWithoutMatchKeepsTheLayout checks that a filter matching no
// list keeps the header and the filter input on screen, the frame the
// terminal's height.
func TestFilterWithoutMatchKeepsTheLayout(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	mustCreate(t, store, "Groceries")
	mustCreate(t, store, "Hardware")
	h := start(t, store, eng, Options{}, nil)
	h.tm.Send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.waitLine("Groceries")
	h.typeText("/grozzz")
	h.waitText("No list matches “grozzz”")
	h.waitFor("a 100×30 frame with the header and the filter", func(s string) bool {
		return frameFits(s, 100, 30) && lineWith(s, "/ grozzz") != ""
	})
}

// TestHelpLineKeepsEssentialKeys checks that the short help always ends in
// the keys to see every key and to quit, at 80 columns and at 60, on both
// screens, with as many screen keys as fit.
func TestHelpLineKeepsEssentialKeys(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	mustCreate(t, store, "Groceries", "milk")
	h := start(t, store, eng, Options{}, nil)
	last := func(s string) string {
		lines := strings.Split(s, "\n")
		return lines[len(lines)-1]
	}
	for _, screen := range []string{"lists", "list"} {
		if screen == "list" {
			h.press(tea.KeyEnter)
			h.waitMatch(itemRow(false, "milk", 1, 0, 1))
		}
		for _, w := range []int{80, 60, 40} {
			h.tm.Send(tea.WindowSizeMsg{Width: w, Height: 24})
			h.waitFor(fmt.Sprintf("%s screen at %d columns: help line with ? and q", screen, w), func(s string) bool {
				l := last(s)
				return frameFits(s, w, 24) && strings.Contains(l, "? more") && strings.Contains(l, "q quit") &&
					!strings.Contains(l, "…")
			})
		}
	}
	h.tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.waitFor("the list screen's main keys at 80 columns", func(s string) bool {
		l := last(s)
		return strings.Contains(l, "space check") && strings.Contains(l, "a add") && strings.Contains(l, "esc back")
	})
}

// TestTitleCountsFilteredLists checks the title says how many lists the
// filter shows of how many.
func TestTitleCountsFilteredLists(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	for _, n := range []string{"Groceries", "Hardware", "Garden"} {
		mustCreate(t, store, n)
	}
	h := start(t, store, eng, Options{}, nil)
	h.waitText("Lists (3)")
	h.typeText("/groc")
	h.waitText("Lists (1 of 3)")
	h.press(tea.KeyEsc)
	h.waitText("Lists (3)")
}

// TestLongListShowsWhereYouAre checks a list longer than the screen says
// how many items are above and below the visible rows.
func TestLongListShowsWhereYouAre(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	var items []string
	for i := range 45 {
		items = append(items, fmt.Sprintf("item%02d", i))
	}
	mustCreate(t, store, "Big", items...)
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Big")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "item00", 1, 0, 1))
	h.waitMatch(`↓ \d+ more`)
	if strings.Contains(h.screen(), "↑") {
		t.Fatalf("at the top, the screen says there is more above:\n%s", h.screen())
	}
	h.typeText("G")
	h.waitMatch(itemRow(false, "item44", 1, 0, 1))
	h.waitMatch(`↑ \d+ more`)
	h.waitFor("nothing below the last item", func(s string) bool { return !strings.Contains(s, "↓") })
}
