package tui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/crdt"
)

// toggle checks an item off (buys all that remains) or unchecks it (takes
// back all that was bought). It acts on the state under the store's lock,
// and does nothing if someone already did the same.
func toggle(key string, check bool) func(l *crdt.List, c *crdt.Clock) error {
	return func(l *crdt.List, c *crdt.Clock) error {
		v, ok := l.Lookup(key)
		switch {
		case !ok:
			return fmt.Errorf("%w: %q", crdt.ErrNotFound, key)
		case check && !v.Acquired:
			return l.Buy(c, key, v.Remaining)
		case !check && v.Bought > 0:
			return l.Unbuy(c, key, v.Bought)
		}
		return nil
	}
}

// addPrompt opens the add dialog. It stays open for the next item: enter
// adds, esc closes.
func (m *listModel) addPrompt() (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Add to “"+m.name()+"”", "e.g. milk 2 · enter adds, esc closes · tab completes", "",
		func(v string) (tea.Cmd, error) {
			name, qty, err := parseAdd(v)
			if err != nil {
				return nil, err
			}
			m.cursorKey = crdt.Normalize(name)
			return m.edit(fmt.Sprintf("added %d × %s", qty, name), false, func(l *crdt.List, c *crdt.Clock) error {
				return l.Add(c, name, qty)
			}), nil
		})
	p.stay = true
	p.suggest(m.suggestions())
	return cmd, openDialogMsg{p}
}

// suggestions are the names used in this list, removed items included, as
// they were displayed, then those used in the other local lists.
func (m *listModel) suggestions() []string {
	var own []string
	if m.has {
		own = m.entry.List.NamesUsed()
	}
	return union(own, m.sh.names)
}

// union returns a's names, then those of b not in a, each once (names
// that normalise alike are one).
func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(slices.Clone(a), b...) {
		if k := crdt.Normalize(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}

// categoryPrompt sets the category (aisle) of an item.
func (m *listModel) categoryPrompt(it crdt.ItemView) (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Category of “"+it.Name+"”", "an aisle, e.g. Dairy · empty for none · tab completes", it.Category,
		func(v string) (tea.Cmd, error) {
			v = strings.TrimSpace(v)
			done := "“" + it.Name + "” in " + v
			if v == "" {
				done = "“" + it.Name + "” has no category"
			}
			m.cursorKey = it.Key
			return m.edit(done, false, func(l *crdt.List, c *crdt.Clock) error { return l.SetCategory(c, it.Key, v) }), nil
		})
	var own []string
	for _, x := range m.all {
		if x.Category != "" {
			own = append(own, x.Category)
		}
	}
	p.suggest(union(own, m.sh.cats))
	return cmd, openDialogMsg{p}
}

// notePrompt sets the note on an item.
func (m *listModel) notePrompt(it crdt.ItemView) (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Note on “"+it.Name+"”", "e.g. the brand, the size · empty for none", it.Note,
		func(v string) (tea.Cmd, error) {
			v = strings.TrimSpace(v)
			done := "noted on “" + it.Name + "”"
			if v == "" {
				done = "note on “" + it.Name + "” removed"
			}
			return m.edit(done, false, func(l *crdt.List, c *crdt.Clock) error { return l.SetNote(c, it.Key, v) }), nil
		})
	return cmd, openDialogMsg{p}
}

// clearConfirm asks before removing every bought item ("finish shopping").
func (m *listModel) clearConfirm() (tea.Cmd, tea.Msg) {
	var names []string
	for _, it := range m.all {
		if it.Acquired {
			names = append(names, it.Name)
		}
	}
	if len(names) == 0 {
		return nil, failMsg{errors.New("nothing is checked off yet: space checks an item off")}
	}
	n := len(names)
	title := fmt.Sprintf("Clear %d bought item%s?", n, plural(n))
	return nil, openDialogMsg{&confirm{title: title, lines: []string{
		strings.Join(names, ", "),
		"They leave the list for everyone sharing it; u undoes.",
	}, yes: func() tea.Cmd {
		return m.do(editReq{done: fmt.Sprintf("cleared %d bought item%s (u undoes)", n, plural(n)),
			what: fmt.Sprintf("cleared %d bought item%s", n, plural(n)), fn: clearBought})
	}}}
}

// clearBought removes every item fully bought, as the state under the
// store's lock has them.
func clearBought(l *crdt.List, c *crdt.Clock) error {
	for _, it := range l.Items() {
		if it.Acquired {
			if err := l.Remove(c, it.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// quantityRE is a trailing word that is meant as a quantity: digits, with
// an optional sign.
var quantityRE = regexp.MustCompile(`^[+-]?[0-9]+$`)

// parseAdd splits "milk 2" into a name and a quantity (default 1). A last
// word of digits is always the quantity: out of range, it is refused, not
// taken into the name; alone, it asks for a name.
func parseAdd(v string) (string, int64, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return "", 0, errors.New("type an item name, optionally followed by a quantity")
	}
	qty := int64(1)
	if last := f[len(f)-1]; quantityRE.MatchString(last) {
		if len(f) == 1 {
			return "", 0, errors.New("type an item name before the quantity, e.g. milk " + strings.TrimPrefix(last, "+"))
		}
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 1 || n > crdt.MaxQuantity {
			return "", 0, fmt.Errorf("the quantity must be 1 to %d", crdt.MaxQuantity)
		}
		qty, f = n, f[:len(f)-1]
	}
	return strings.Join(f, " "), qty, nil
}

func (m *listModel) buyPrompt(it crdt.ItemView) (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Buy how many “"+it.Name+"”?", fmt.Sprintf("%d left to buy", it.Remaining),
		strconv.FormatInt(max(it.Remaining, 1), 10), func(v string) (tea.Cmd, error) {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 1 {
				return nil, errors.New("type a number, 1 or more")
			}
			return m.edit(fmt.Sprintf("bought %d × %s", n, it.Name), false, func(l *crdt.List, c *crdt.Clock) error {
				return l.Buy(c, it.Key, n)
			}), nil
		})
	return cmd, openDialogMsg{p}
}

func (m *listModel) renamePrompt() (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Rename the list", "everyone sharing it sees the new name", m.name(),
		func(v string) (tea.Cmd, error) {
			if strings.TrimSpace(v) == "" {
				return nil, errors.New("type a name for the list")
			}
			return m.edit("renamed to “"+strings.TrimSpace(v)+"”", false, func(l *crdt.List, c *crdt.Clock) error {
				return l.Rename(c, v)
			}), nil
		})
	return cmd, openDialogMsg{p}
}

// ParseItem reads an item as typed, "milk" or "eggs 12": its name and its
// quantity (default 1), by the rules of the add dialog, for the command
// line to read items as the UI does.
func ParseItem(s string) (name string, qty int64, err error) { return parseAdd(s) }
