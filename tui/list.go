package tui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/crdt"
)

// errMinQuantity refuses to lower a quantity below 1 (remove the item instead).
var errMinQuantity = errors.New("the quantity is already 1: press x to remove the item")

// listModel is the list screen: the items of one list, to add, check off,
// buy, change, remove; rename and share the list.
type listModel struct {
	sh         *shared
	id         uuid.UUID
	entry      replica.Entry
	has        bool               // entry holds a load
	fresh      bool               // the next load is shown without highlights
	items      []crdt.ItemView    // in display order: to buy first, then acquired
	cursor     int                // index into items
	offset     int                // first visible row
	cursorKey  string             // the item under the cursor, kept across reloads
	hl         highlights[string] // item keys; "" is the list name
	remoteKeys []string           // keys the engine reported changed remotely since the last load
}

// newListModel opens list id; e, when known, is shown until the first load.
func newListModel(sh *shared, id uuid.UUID, e *replica.Entry) *listModel {
	m := &listModel{sh: sh, id: id, fresh: true}
	if e != nil {
		m.set(*e, true)
	}
	return m
}

// reload reads the list again.
func (m *listModel) reload() tea.Cmd { return m.sh.io(loadListOp(m.sh.store, m.id)) }

// loaded shows a new load, highlighting the items changed under the user.
func (m *listModel) loaded(e replica.Entry) tea.Cmd {
	var changed []string
	if m.has && !m.fresh {
		changed = changes(m.entry.List, e.List)
		for _, k := range m.remoteKeys {
			if _, ok := e.List.Lookup(k); (ok || k == "") && !slices.Contains(changed, k) {
				changed = append(changed, k)
			}
		}
	}
	m.remoteKeys, m.fresh = nil, false
	m.set(e, true)
	return m.hl.mark(screenList, changed...)
}

// edited shows the result of the user's own edit. The edit started from the
// state on disk, which may hold changes merged since the last load: those
// are highlighted, the edit's own are not.
func (m *listModel) edited(msg editedMsg) tea.Cmd {
	var changed []string
	if m.has {
		changed = slices.DeleteFunc(changes(m.entry.List, msg.entry.List), func(k string) bool {
			return slices.Contains(msg.keys, k)
		})
	}
	m.set(msg.entry, !msg.toggle)
	return m.hl.mark(screenList, changed...)
}

// changes returns the keys of the items that look different in b than in a
// ("" when the name changed).
func changes(a, b *crdt.List) []string {
	var out []string
	if a.Name() != b.Name() {
		out = append(out, "")
	}
	for _, it := range b.Items() {
		if old, ok := a.Lookup(it.Key); !ok || old.Name != it.Name || old.Wanted != it.Wanted || old.Bought != it.Bought {
			out = append(out, it.Key)
		}
	}
	return out
}

// set shows entry e; the cursor follows its item if byKey, else keeps its row.
func (m *listModel) set(e replica.Entry, byKey bool) {
	m.entry, m.has = e, true
	m.items = e.List.Items()
	slices.SortStableFunc(m.items, func(a, b crdt.ItemView) int {
		switch {
		case a.Acquired == b.Acquired:
			return 0
		case b.Acquired:
			return -1
		}
		return 1
	})
	if byKey {
		if i := slices.IndexFunc(m.items, func(it crdt.ItemView) bool { return it.Key == m.cursorKey }); i >= 0 {
			m.cursor = i
		}
	}
	m.move(m.cursor)
}

func (m *listModel) move(to int) {
	m.cursor = max(min(to, len(m.items)-1), 0)
	m.cursorKey = ""
	if m.cursor < len(m.items) {
		m.cursorKey = m.items[m.cursor].Key
	}
}

func (m *listModel) selected() (crdt.ItemView, bool) {
	if m.cursor < 0 || m.cursor >= len(m.items) {
		return crdt.ItemView{}, false
	}
	return m.items[m.cursor], true
}

// name is the list's name, or its short ID before it is loaded.
func (m *listModel) name() string {
	if m.has && m.entry.List.Name() != "" {
		return m.entry.List.Name()
	}
	return m.id.String()[:8]
}

// edit queues fn as an edit of this list; done is the notice on success.
func (m *listModel) edit(done string, toggle bool, fn func(l *crdt.List, c *crdt.Clock) error) tea.Cmd {
	return m.sh.io(editOp(m.sh.store, m.sh.eng, m.id, done, toggle, fn))
}

// key handles a key on the list screen. It returns a command, and what it
// asks of the root (see messages.go), or nil.
func (m *listModel) key(k tea.KeyMsg) (tea.Cmd, tea.Msg) {
	it, ok := m.selected()
	switch {
	case key.Matches(k, listKeys.Up):
		m.move(m.cursor - 1)
	case key.Matches(k, listKeys.Down):
		m.move(m.cursor + 1)
	case key.Matches(k, listKeys.Top):
		m.move(0)
	case key.Matches(k, listKeys.Bottom):
		m.move(len(m.items) - 1)
	case key.Matches(k, listKeys.Back):
		return nil, backMsg{}
	case key.Matches(k, listKeys.Add):
		return m.addPrompt()
	case key.Matches(k, listKeys.Rename):
		return m.renamePrompt()
	case key.Matches(k, listKeys.Share):
		return nil, openDialogMsg{newShare(m.id, m.name(), m.sh.tmux)}
	case !ok:
		return nil, nil
	case key.Matches(k, listKeys.Toggle):
		done := fmt.Sprintf("checked off %d × %s", it.Remaining, it.Name)
		if it.Acquired {
			done = "unchecked " + it.Name
		}
		return m.edit(done, true, toggle(it.Key, !it.Acquired)), nil
	case key.Matches(k, listKeys.Buy):
		return m.buyPrompt(it)
	case key.Matches(k, listKeys.Inc):
		return m.edit("", false, func(l *crdt.List, c *crdt.Clock) error {
			if _, ok := l.Lookup(it.Key); !ok {
				return fmt.Errorf("%w: %q", crdt.ErrNotFound, it.Name)
			}
			return l.Add(c, it.Name, 1) // an increment: concurrent ones add up
		}), nil
	case key.Matches(k, listKeys.Dec):
		if it.Wanted <= 1 {
			return nil, failMsg{errMinQuantity}
		}
		return m.edit("", false, func(l *crdt.List, c *crdt.Clock) error {
			v, ok := l.Lookup(it.Key)
			if !ok {
				return fmt.Errorf("%w: %q", crdt.ErrNotFound, it.Name)
			}
			if v.Wanted <= 1 {
				return errMinQuantity
			}
			return l.Decrease(c, it.Key, 1)
		}), nil
	case key.Matches(k, listKeys.Rm):
		return m.edit("removed “"+it.Name+"” (a adds it back)", false, func(l *crdt.List, c *crdt.Clock) error {
			return l.Remove(c, it.Key)
		}), nil
	}
	return nil, nil
}

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

func (m *listModel) addPrompt() (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Add to “"+m.name()+"”", "name and optional quantity, e.g. milk 2 · tab completes", "",
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
	p.suggest(m.suggestions())
	return cmd, openDialogMsg{p}
}

// suggestions are the names used in this list, removed items included, as
// they were displayed.
func (m *listModel) suggestions() []string {
	if !m.has {
		return nil
	}
	return m.entry.List.NamesUsed()
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

// title is the header of the screen.
func (m *listModel) title() string {
	if !m.has {
		return m.name()
	}
	left, total := counts(m.entry.List)
	return fmt.Sprintf("%s · %d of %d left", m.name(), left, total)
}

// Column widths of the list screen.
const (
	checkWidth = 4 // "[✓] "
	qtyWidth   = 7 // " WANTED"
)

// view renders the screen in w×h cells, one string per line.
func (m *listModel) view(w, h int) []string {
	if !m.has {
		return []string{styles.empty.Render("loading…")}
	}
	info := badge(m.entry, m.sh.status, m.sh.opts) + styles.subtle.Render(
		"  last sync "+ago(m.entry.LastSync, time.Now())+"  ·  ID "+m.id.String()[:8]+"…  (s shares)")
	if m.hl.on("") {
		info = styles.freshBar.Render("▌") + styles.fresh.Render("renamed") + "  " + info
	}
	lines := []string{clip(info, w)}
	if len(m.items) == 0 {
		return append(lines, strings.Split(styles.empty.Render(
			"No items yet.\n\nPress a to add one, e.g. “milk 2”."), "\n")...)
	}
	nameW := max(w-gutterWidth-checkWidth-3*qtyWidth, 4)
	lines = append(lines, styles.header.Render(fit("", gutterWidth+checkWidth)+fit("ITEM", nameW)+
		fitRight("WANTED", qtyWidth)+fitRight("BOUGHT", qtyWidth)+fitRight("LEFT", qtyWidth)))
	rows := rowsFor(h-len(lines), len(m.items))
	m.offset = scroll(m.offset, m.cursor, rows, len(m.items))
	for i := m.offset; i < len(m.items) && i < m.offset+rows; i++ {
		lines = append(lines, m.row(m.items[i], i == m.cursor, nameW))
	}
	return append(lines, more(m.offset, rows, len(m.items))...)
}

// row renders one item.
func (m *listModel) row(it crdt.ItemView, sel bool, nameW int) string {
	cursor, check := "  ", "[ ] "
	if sel {
		cursor = "› "
	}
	if it.Acquired {
		check = "[✓] "
	}
	name := fit(it.Name, nameW)
	nums := fitRight(strconv.FormatInt(it.Wanted, 10), qtyWidth) + fitRight(strconv.FormatInt(it.Bought, 10), qtyWidth) +
		fitRight(strconv.FormatInt(it.Remaining, 10), qtyWidth)
	if m.hl.on(it.Key) {
		st := styles.fresh.Bold(sel)
		return styles.freshBar.Render("▌") + st.Render(cursor+check+name+nums)
	}
	switch {
	case sel && it.Acquired:
		name = styles.selected.Inherit(styles.checked).Render(name)
	case sel:
		name = styles.selected.Render(name)
	case it.Acquired:
		name = styles.checked.Render(name)
	}
	if sel {
		cursor = styles.selected.Render(cursor)
	}
	return " " + cursor + check + name + nums
}

// ParseItem reads an item as typed, "milk" or "eggs 12": its name and its
// quantity (default 1), by the rules of the add dialog, for the command
// line to read items as the UI does.
func ParseItem(s string) (name string, qty int64, err error) { return parseAdd(s) }
