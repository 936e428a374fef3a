package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/crdt"
)

// listsModel is the lists screen: every local list with its counts and
// sync badge; create, join, open, forget and filter.
type listsModel struct {
	sh        *shared
	entries   []replica.Entry // every local list, as last loaded
	has       bool            // entries holds a load
	fresh     bool            // the next load is shown without highlights
	cursor    int             // index into visible()
	offset    int             // first visible row
	cursorID  uuid.UUID       // the list under the cursor, kept across reloads
	filter    textinput.Model
	filtering bool // the filter input has the keys
	hl        highlights[uuid.UUID]
	remote    map[uuid.UUID]bool // lists changed by the network since the last load
}

func newListsModel(sh *shared) *listsModel {
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "filter by name or ID"
	f.PromptStyle = styles.selected
	f.CharLimit = 200
	return &listsModel{sh: sh, filter: f, remote: map[uuid.UUID]bool{}}
}

// enter (re)loads the screen when it is shown; changes made meanwhile are
// not highlighted.
func (m *listsModel) enter() tea.Cmd {
	m.fresh = true
	m.hl.reset()
	return m.reload()
}

// reload reads the lists again.
func (m *listsModel) reload() tea.Cmd { return m.sh.io(loadListsOp(m.sh.store)) }

// loaded shows a new load, highlighting the lists that changed under the user.
func (m *listsModel) loaded(entries []replica.Entry) tea.Cmd {
	var changed []uuid.UUID
	if m.has && !m.fresh {
		old := map[uuid.UUID]string{}
		for _, e := range m.entries {
			old[e.List.ID()] = summary(e.List)
		}
		for _, e := range entries {
			id := e.List.ID()
			if s, ok := old[id]; !ok || s != summary(e.List) || m.remote[id] {
				changed = append(changed, id)
			}
		}
	}
	m.entries, m.has, m.fresh = entries, true, false
	m.sh.names, m.sh.cats = used(entries)
	clear(m.remote)
	m.place()
	return m.hl.mark(screenLists, changed...)
}

// used returns the item names and the categories used in any of entries,
// for suggestions.
func used(entries []replica.Entry) (names, cats []string) {
	for _, e := range entries {
		names = append(names, e.List.NamesUsed()...)
		for _, it := range e.List.Items() {
			if it.Category != "" {
				cats = append(cats, it.Category)
			}
		}
	}
	return union(names, nil), union(cats, nil)
}

// summary is what the lists screen shows of a list, to tell if it changed.
func summary(l *crdt.List) string {
	left, total := counts(l)
	return fmt.Sprintf("%s\x00%d\x00%d\x00%v", l.Name(), left, total, l.Deleted())
}

// counts returns how many items of l are still to buy, and how many there are.
func counts(l *crdt.List) (left, total int) {
	for _, it := range l.Items() {
		total++
		if !it.Acquired {
			left++
		}
	}
	return left, total
}

// visible returns the lists that pass the filter.
func (m *listsModel) visible() []replica.Entry {
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	if q == "" {
		return m.entries
	}
	var out []replica.Entry
	for _, e := range m.entries {
		if strings.Contains(strings.ToLower(e.List.Name()), q) || strings.HasPrefix(e.List.ID().String(), q) {
			out = append(out, e)
		}
	}
	return out
}

// place puts the cursor back on cursorID, or keeps it in range.
func (m *listsModel) place() {
	vis := m.visible()
	for i, e := range vis {
		if e.List.ID() == m.cursorID {
			m.cursor = i
			return
		}
	}
	m.cursor = min(m.cursor, len(vis)-1)
	m.cursor = max(m.cursor, 0)
	if m.cursor < len(vis) {
		m.cursorID = vis[m.cursor].List.ID()
	}
}

// selected returns the list under the cursor.
func (m *listsModel) selected() (replica.Entry, bool) {
	vis := m.visible()
	if m.cursor < 0 || m.cursor >= len(vis) {
		return replica.Entry{}, false
	}
	return vis[m.cursor], true
}

func (m *listsModel) move(to int) {
	vis := m.visible()
	m.cursor = max(min(to, len(vis)-1), 0)
	if m.cursor < len(vis) {
		m.cursorID = vis[m.cursor].List.ID()
	}
}

// update passes other messages (cursor blinks) to the filter input.
func (m *listsModel) update(msg tea.Msg) tea.Cmd {
	if !m.filtering {
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	return cmd
}

// key handles a key on the lists screen. It returns a command, and what it
// asks of the root (see messages.go), or nil.
func (m *listsModel) key(k tea.KeyMsg) (tea.Cmd, tea.Msg) {
	if m.filtering {
		switch {
		case key.Matches(k, filterKeys.Clear):
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.place()
			return nil, nil
		case key.Matches(k, filterKeys.Apply):
			m.filtering = false
			m.filter.Blur()
			return nil, nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(k)
		m.cursor = 0
		m.place()
		return cmd, nil
	}
	switch {
	case key.Matches(k, listsKeys.Up):
		m.move(m.cursor - 1)
	case key.Matches(k, listsKeys.Down):
		m.move(m.cursor + 1)
	case key.Matches(k, listsKeys.Top):
		m.move(0)
	case key.Matches(k, listsKeys.Bottom):
		m.move(len(m.visible()) - 1)
	case key.Matches(k, listsKeys.Open):
		if e, ok := m.selected(); ok {
			return nil, openListMsg{e.List.ID()}
		}
	case key.Matches(k, listsKeys.New):
		return m.newPrompt()
	case key.Matches(k, listsKeys.Join):
		return m.joinPrompt()
	case key.Matches(k, listsKeys.Forget):
		if e, ok := m.selected(); ok {
			return nil, openDialogMsg{m.forgetConfirm(e)}
		}
	case key.Matches(k, listsKeys.Delete):
		if e, ok := m.selected(); ok {
			return nil, openDialogMsg{m.sh.deleteConfirm(e)}
		}
	case key.Matches(k, listsKeys.Name):
		return m.sh.namePrompt()
	case key.Matches(k, listsKeys.Filter):
		m.filtering = true
		return m.filter.Focus(), nil
	case key.Matches(k, listsKeys.Esc):
		m.filter.SetValue("")
		m.place()
	}
	return nil, nil
}

func (m *listsModel) newPrompt() (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("New list", "a name for the list, e.g. Groceries", "", func(v string) (tea.Cmd, error) {
		if strings.TrimSpace(v) == "" {
			return nil, errors.New("type a name for the list")
		}
		return m.sh.io(createOp(m.sh.store, m.sh.eng, v)), nil
	})
	return cmd, openDialogMsg{p}
}

func (m *listsModel) joinPrompt() (tea.Cmd, tea.Msg) {
	p, cmd := newPrompt("Join a shared list", "paste the list ID someone shared with you (s on their list)", "",
		func(v string) (tea.Cmd, error) {
			id, err := uuid.Parse(strings.TrimSpace(v))
			if err != nil {
				return nil, errors.New("not a list ID: it looks like 1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b")
			}
			return func() tea.Msg { return joinMsg{id} }, nil
		})
	return cmd, openDialogMsg{p}
}

func (m *listsModel) forgetConfirm(e replica.Entry) *confirm {
	id, name := e.List.ID(), e.List.Name()
	lines := []string{"This deletes only the copy on this device; the shared list is untouched."}
	if e.Pending {
		lines = append(lines, styles.errNotice.Render("It has unpushed changes that were never synced: they will be lost."))
	}
	return &confirm{title: "Forget “" + name + "”?", lines: lines, yes: func() tea.Cmd {
		// The user agreed to lose unpushed changes only if warned of them.
		return m.sh.io(forgetOp(m.sh.store, id, name, e.Pending))
	}}
}

// title is the header of the screen.
func (m *listsModel) title() string {
	if !m.has {
		return "Lists"
	}
	if strings.TrimSpace(m.filter.Value()) != "" {
		return fmt.Sprintf("Lists (%d of %d)", len(m.visible()), len(m.entries))
	}
	return fmt.Sprintf("Lists (%d)", len(m.entries))
}

// Column widths of the lists screen.
const (
	gutterWidth = 3 // highlight bar, cursor, space
	countWidth  = 14
)

// view renders the screen in w×h cells, one string per line.
func (m *listsModel) view(w, h int) []string {
	var lines []string
	if m.filtering {
		m.filter.Width = max(w-4, 1)
		lines = append(lines, m.filter.View())
	} else if q := m.filter.Value(); q != "" {
		lines = append(lines, clip(styles.selected.Render("/ ")+q+styles.subtle.Render("   (esc clears)"), w))
	}
	vis := m.visible()
	switch {
	case !m.has:
		return append(lines, styles.empty.Render("loading…"))
	case len(m.entries) == 0:
		return append(lines, strings.Split(styles.empty.Render(
			"No lists yet.\n\nPress n to create one, or j to join a list\nsomeone shared with you by its ID."), "\n")...)
	case len(vis) == 0:
		return append(lines, styles.empty.Render("No list matches “"+m.filter.Value()+"”."))
	}
	nameW := max(w-gutterWidth-1-countWidth-2-badgeWidth, 4)
	lines = append(lines, styles.header.Render(fit("", gutterWidth)+fit("LIST", nameW)+" "+
		fitRight("LEFT / ITEMS", countWidth)+"  "+fit("SYNC", badgeWidth)))
	rows := rowsFor(h-len(lines), len(vis))
	m.offset = scroll(m.offset, m.cursor, rows, len(vis))
	for i := m.offset; i < len(vis) && i < m.offset+rows; i++ {
		lines = append(lines, m.row(vis[i], i == m.cursor, nameW))
	}
	return append(lines, more(m.offset, rows, len(vis))...)
}

// row renders one list.
func (m *listsModel) row(e replica.Entry, sel bool, nameW int) string {
	left, total := counts(e.List)
	var cnt string
	switch {
	case total == 0:
		cnt = "empty"
	case left == 0:
		cnt = fmt.Sprintf("all %d bought", total)
	default:
		cnt = fmt.Sprintf("%d / %d", left, total)
	}
	label := e.List.Name()
	if d := m.sh.deletedBy(e.List); d != "" {
		label += " · " + d
	}
	cursor, name, num := "  ", fit(label, nameW), " "+fitRight(cnt, countWidth)+"  "
	b := badge(e, m.sh.status, m.sh.opts)
	if sel {
		cursor = "› "
	}
	if m.hl.on(e.List.ID()) {
		return styles.freshBar.Render("▌") + styles.fresh.Bold(sel).Render(cursor+name+num) + b
	}
	if sel {
		cursor, name = styles.selected.Render(cursor), styles.selected.Render(name)
	}
	return " " + cursor + name + num + b
}

// rowsFor returns how many of n rows fit in h lines, keeping one for the
// line that says how many more there are when they do not all fit.
func rowsFor(h, n int) int {
	if n > h && h > 1 {
		return h - 1
	}
	return max(h, 1)
}

// more says how many rows are above and below the rows shown, when some
// are not: nothing if every row is shown.
func more(offset, rows, n int) []string {
	above, below := offset, max(n-offset-rows, 0)
	if above == 0 && below == 0 {
		return nil
	}
	var parts []string
	if above > 0 {
		parts = append(parts, fmt.Sprintf("↑ %d more", above))
	}
	if below > 0 {
		parts = append(parts, fmt.Sprintf("↓ %d more", below))
	}
	return []string{styles.subtle.Render(fit("", gutterWidth) + strings.Join(parts, "  ·  "))}
}

// scroll returns the first row to show so that cursor is visible.
func scroll(offset, cursor, rows, n int) int {
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+rows {
		offset = cursor - rows + 1
	}
	return max(min(offset, n-rows), 0)
}
