package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
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
	all        []crdt.ItemView    // every item, in shopping order (InShoppingOrder)
	items      []crdt.ItemView    // the items shown: those of all that match the search
	cursor     int                // index into items
	offset     int                // first visible row
	cursorKey  string             // the item under the cursor, kept across reloads
	hl         highlights[string] // item keys; "" is the list name
	by         map[string]string  // item key → who changed it, shown while highlighted (authors.go)
	remoteKeys []string           // keys the engine reported changed remotely since the last load
	search     textinput.Model    // search within the list: name, category, note
	searching  bool               // the search input has the keys
}

// newListModel opens list id; e, when known, is shown until the first load.
func newListModel(sh *shared, id uuid.UUID, e *replica.Entry) *listModel {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "search items, categories, notes"
	in.PromptStyle = styles.selected
	in.CharLimit = 200
	m := &listModel{sh: sh, id: id, fresh: true, search: in}
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
			// The header ("") is highlighted only when the name changed
			// (changes): a delete or restore shows in the title itself.
			if _, ok := e.List.Lookup(k); ok && !slices.Contains(changed, k) {
				changed = append(changed, k)
			}
		}
	}
	m.remoteKeys, m.fresh = nil, false
	m.credit(e.List, changed)
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
	m.credit(msg.entry.List, changed)
	m.set(msg.entry, !msg.toggle)
	return m.hl.mark(screenList, changed...)
}

// credit remembers who made the changes to keys that after holds, against
// the list shown now.
func (m *listModel) credit(after *crdt.List, keys []string) {
	if !m.has {
		return
	}
	if m.by == nil {
		m.by = map[string]string{}
	}
	for k, label := range authorLabels(m.entry.List, after, keys, m.sh.store.ReplicaID()) {
		m.by[k] = label
	}
}

// changes returns the keys of the items that look different in b than in a
// ("" when the name changed).
func changes(a, b *crdt.List) []string {
	var out []string
	if a.Name() != b.Name() {
		out = append(out, "")
	}
	for _, it := range b.Items() {
		if old, ok := a.Lookup(it.Key); !ok || old.Name != it.Name || old.Wanted != it.Wanted || old.Bought != it.Bought ||
			old.Category != it.Category || old.Note != it.Note {
			out = append(out, it.Key)
		}
	}
	return out
}

// set shows entry e; the cursor follows its item if byKey, else keeps its row.
func (m *listModel) set(e replica.Entry, byKey bool) {
	m.entry, m.has = e, true
	m.all = InShoppingOrder(e.List.Items())
	m.refilter(byKey)
}

// refilter shows the items that match the search; the cursor follows its
// item if byKey, else keeps its row.
func (m *listModel) refilter(byKey bool) {
	q := strings.ToLower(strings.TrimSpace(m.search.Value()))
	m.items = m.all
	if q != "" {
		m.items = nil
		for _, it := range m.all {
			if strings.Contains(strings.ToLower(it.Name+"\x00"+it.Category+"\x00"+it.Note), q) {
				m.items = append(m.items, it)
			}
		}
	}
	if byKey {
		if i := slices.IndexFunc(m.items, func(it crdt.ItemView) bool { return it.Key == m.cursorKey }); i >= 0 {
			m.cursor = i
		}
	}
	m.move(m.cursor)
}

// update passes other messages (cursor blinks) to the search input.
func (m *listModel) update(msg tea.Msg) tea.Cmd {
	if !m.searching {
		return nil
	}
	var cmd tea.Cmd
	m.search, cmd = m.search.Update(msg)
	return cmd
}

// searchKey handles a key while the search input has the keys.
func (m *listModel) searchKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, filterKeys.Clear):
		m.searching = false
		m.search.Blur()
		m.search.SetValue("")
		m.refilter(true)
		return nil
	case key.Matches(k, filterKeys.Apply):
		m.searching = false
		m.search.Blur()
		return nil
	}
	var cmd tea.Cmd
	m.search, cmd = m.search.Update(k)
	m.cursor = 0
	m.refilter(false)
	return cmd
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
	return m.do(editReq{fn: fn, done: done, toggle: toggle})
}

// do queues an edit of this list.
func (m *listModel) do(r editReq) tea.Cmd {
	if r.what == "" {
		r.what = r.done
	}
	return m.sh.io(editOp(m.sh.store, m.sh.eng, m.id, r))
}

// errNothingToUndo says u has nothing left to undo.
var errNothingToUndo = errors.New("nothing to undo: only edits made here since the UI started are undone")

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
	case key.Matches(k, listKeys.Delete):
		if m.has {
			return nil, openDialogMsg{m.sh.deleteConfirm(m.entry)}
		}
	case key.Matches(k, listKeys.Undo):
		st := m.sh.undo.pop(m.id)
		if st == nil {
			return nil, failMsg{errNothingToUndo}
		}
		return m.do(editReq{fn: st.restore, done: undone(st), undo: true}), nil
	case key.Matches(k, listKeys.Search):
		m.searching = true
		return m.search.Focus(), nil
	case key.Matches(k, listKeys.Clear):
		return m.clearConfirm()
	case !ok:
		return nil, nil
	case key.Matches(k, listKeys.Category):
		return m.categoryPrompt(it)
	case key.Matches(k, listKeys.Note):
		return m.notePrompt(it)
	case key.Matches(k, listKeys.Toggle):
		done := fmt.Sprintf("checked off %d × %s", it.Remaining, it.Name)
		if it.Acquired {
			done = "unchecked " + it.Name
		}
		return m.edit(done, true, toggle(it.Key, !it.Acquired)), nil
	case key.Matches(k, listKeys.Buy):
		return m.buyPrompt(it)
	case key.Matches(k, listKeys.Inc):
		return m.do(editReq{what: "want more " + it.Name, fn: func(l *crdt.List, c *crdt.Clock) error {
			if _, ok := l.Lookup(it.Key); !ok {
				return fmt.Errorf("%w: %q", crdt.ErrNotFound, it.Name)
			}
			return l.Add(c, it.Name, 1) // an increment: concurrent ones add up
		}}), nil
	case key.Matches(k, listKeys.Dec):
		if it.Wanted <= 1 {
			return nil, failMsg{errMinQuantity}
		}
		return m.do(editReq{what: "want fewer " + it.Name, fn: func(l *crdt.List, c *crdt.Clock) error {
			v, ok := l.Lookup(it.Key)
			if !ok {
				return fmt.Errorf("%w: %q", crdt.ErrNotFound, it.Name)
			}
			if v.Wanted <= 1 {
				return errMinQuantity
			}
			return l.Decrease(c, it.Key, 1)
		}}), nil
	case key.Matches(k, listKeys.Rm):
		return m.do(editReq{done: "removed “" + it.Name + "” (u undoes)", what: "removed “" + it.Name + "”",
			fn: func(l *crdt.List, c *crdt.Clock) error { return l.Remove(c, it.Key) }}), nil
	}
	return nil, nil
}

// title is the header of the screen.
func (m *listModel) title() string {
	if !m.has {
		return m.name()
	}
	left, total := counts(m.entry.List)
	if d := m.sh.deletedBy(m.entry.List); d != "" {
		return fmt.Sprintf("%s · %s · %d of %d left", m.name(), d, left, total)
	}
	return fmt.Sprintf("%s · %d of %d left", m.name(), left, total)
}
