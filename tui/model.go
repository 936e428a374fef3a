package tui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
)

// screen names one of the two screens.
type screen int

const (
	screenLists screen = iota // every local list
	screenList                // the items of one list
)

// Default terminal size until the first WindowSizeMsg.
const defaultWidth, defaultHeight = 80, 24

// shared is what the screens need from the root: the store and the engine
// their operations run on, the options, the sync status their badges show
// (the root keeps it current; screens only read it) and the queue their
// store operations go through. Anything else a screen wants of the root it
// asks for with a message (messages.go). It is only used from the Update
// goroutine (and View, which Bubble Tea calls from the same goroutine), so
// it needs no lock.
type shared struct {
	store  *replica.Store
	eng    Engine
	opts   Options
	tmux   bool // inside tmux: clipboard sequences are wrapped for pass-through
	status syncer.Status
	queue  ioQueue    // store operations, one at a time
	undo   undoStacks // each list's last edits made here, to undo
	names  []string   // item names used in any local list, for suggestions
	cats   []string   // categories used in any local list, for suggestions
}

// io queues a store operation; see ioQueue.
func (s *shared) io(op ioOp) tea.Cmd { return s.queue.push(op) }

// model is the root model: it owns the screens, the open dialog and the
// notice line, turns engine events and polls into reloads, routes keys to
// the open dialog or screen, and handles what the screens ask for.
type model struct {
	sh            *shared
	ctx           context.Context // ends when the UI quits: stops event waits and joins
	cancel        context.CancelFunc
	events        <-chan syncer.Event
	screen        screen
	lists         *listsModel
	list          *listModel // the open list; nil on the lists screen
	dialog        dialog     // the open dialog, or nil
	help          help.Model
	width, height int
	notice        string // one-line message under the screen, about the last action
	noticeErr     bool
	noticeSticky  bool // about the lists, not an action: kept until it expires
	noticeSeq     int
	joining       int           // joins in flight
	poll          time.Duration // how often to poll the store generation; 0 = never (tests)
	gen           uint64        // last Store.Generation seen
	genKnown      bool
	quitting      bool // quit was asked for; waiting for queued edits to be saved
}

func newModel(store *replica.Store, eng Engine, opts Options) *model {
	if eng == nil {
		eng = offlineEngine{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	sh := &shared{store: store, eng: eng, opts: opts, undo: undoStacks{}}
	sh.status.Proxy = opts.Proxy
	h := help.New()
	h.Width = defaultWidth
	return &model{sh: sh, ctx: ctx, cancel: cancel, events: eng.Events(), lists: newListsModel(sh), help: h,
		width: defaultWidth, height: defaultHeight, poll: pollInterval}
}

// notify shows text under the screen for a few seconds.
func (m *model) notify(text string) tea.Cmd { return m.setNotice(text, false, noticeDuration) }

// fail shows err under the screen, in words a person can act on.
func (m *model) fail(err error) tea.Cmd {
	return m.setNotice(friendly(err), true, errorDuration)
}

func (m *model) setNotice(text string, isErr bool, d time.Duration) tea.Cmd {
	m.noticeSeq++
	seq := m.noticeSeq
	m.notice, m.noticeErr, m.noticeSticky = text, isErr, false
	return tea.Tick(d, func(time.Time) tea.Msg { return noticeDoneMsg{seq} })
}

// clearNotice drops the message about the last action: the user moved on
// (another screen, a dialog, the filter, or an action that succeeded).
func (m *model) clearNotice() {
	if !m.noticeSticky {
		m.notice, m.noticeErr = "", false
	}
}

// stop ends the model's background waits.
func (m *model) stop() { m.cancel() }

// Init loads the lists and starts the event wait and the poll.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.lists.enter(), waitEventCmd(m.ctx, m.events), statusCmd(m.sh.eng)}
	if m.poll > 0 {
		cmds = append(cmds, pollCmd(m.sh.store, m.sh.eng))
	}
	return tea.Batch(cmds...)
}

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		return m, nil
	case tea.KeyMsg:
		if m.quitting {
			if key.Matches(msg, globalKeys.ForceQuit) {
				return m, tea.Quit // a second ctrl+c does not wait
			}
			return m, nil
		}
		return m, m.key(msg)
	case ioDoneMsg:
		next := m.sh.queue.done()
		if m.quitting && next == nil {
			return m, tea.Quit // every queued edit is saved
		}
		return m, tea.Batch(m.result(msg.msg), next)
	case engineEventMsg:
		return m, tea.Batch(m.event(msg.ev), waitEventCmd(m.ctx, m.events))
	case engineClosedMsg:
		return m, nil
	case statusMsg:
		m.sh.status = msg.status
		return m, nil
	case pollMsg:
		return m, pollCmd(m.sh.store, m.sh.eng)
	case polledMsg:
		return m, tea.Batch(m.polled(msg), pollTick(m.poll))
	case joinedMsg:
		return m, m.joined(msg)
	case highlightDoneMsg:
		if msg.screen == screenList && m.list != nil {
			m.list.hl.expire(msg.seq)
		} else if msg.screen == screenLists {
			m.lists.hl.expire(msg.seq)
		}
		return m, nil
	case noticeDoneMsg:
		if msg.seq == m.noticeSeq {
			m.notice, m.noticeErr, m.noticeSticky = "", false, false
		}
		return m, nil
	case openListMsg:
		return m, m.open(msg.id, nil)
	case backMsg:
		return m, m.back()
	case openDialogMsg:
		m.dialog = msg.dialog
		m.clearNotice()
		return m, nil
	case joinMsg:
		m.joining++
		return m, tea.Batch(joinCmd(m.ctx, m.sh.eng, msg.id), m.notify("joining "+msg.id.String()+"…"))
	case failMsg:
		return m, m.fail(msg.err)
	case namedMsg:
		if msg.err != nil {
			return m, m.fail(msg.err)
		}
		return m, m.notify("your edits are signed “" + msg.name + "” from now on")
	}
	// Anything else (cursor blinks) belongs to the focused text input.
	if m.dialog != nil {
		_, cmd := m.dialog.update(msg)
		return m, cmd
	}
	if m.screen == screenLists {
		return m, m.lists.update(msg)
	}
	if m.list != nil {
		return m, m.list.update(msg)
	}
	return m, nil
}

// key routes a key press: ctrl+c always quits; an open dialog takes every
// other key; q and ? work unless the user is typing. What the screen asks
// for in return (another screen, a dialog) is handled before the next key,
// so every later key goes to the new screen or dialog.
func (m *model) key(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, globalKeys.ForceQuit) {
		return m.quit()
	}
	if !m.typing() {
		defer func() {
			if m.typing() { // the filter opened: the last message is not about it
				m.clearNotice()
			}
		}()
	}
	if m.dialog != nil {
		closed, cmd := m.dialog.update(k)
		if closed {
			m.dialog = nil
		}
		return cmd
	}
	if !m.typing() {
		switch {
		case key.Matches(k, globalKeys.Quit):
			return m.quit()
		case key.Matches(k, globalKeys.Help):
			m.help.ShowAll = !m.help.ShowAll
			return nil
		}
	}
	var cmd tea.Cmd
	var req tea.Msg
	if m.screen == screenList && m.list != nil && m.list.searching {
		cmd = m.list.searchKey(k)
	} else if m.screen == screenList && m.list != nil {
		cmd, req = m.list.key(k)
	} else {
		cmd, req = m.lists.key(k)
	}
	if req != nil {
		_, next := m.Update(req)
		return tea.Batch(cmd, next)
	}
	return cmd
}

// typing reports whether keys are text for an input.
func (m *model) typing() bool {
	return m.dialog != nil || (m.screen == screenLists && m.lists.filtering) ||
		(m.screen == screenList && m.list != nil && m.list.searching)
}

// quit ends the program once the edits already queued are saved: the user
// pressed enter and then q, and expects the edit kept. Queued reads are
// dropped; keys are ignored meanwhile (a second ctrl+c quits at once).
func (m *model) quit() tea.Cmd {
	m.cancel()
	if !m.sh.queue.dropReads() {
		return tea.Quit
	}
	m.quitting = true
	m.notice = "saving your last edit before quitting…"
	return nil
}

// open shows list id; e, when known, is shown until the load finishes.
func (m *model) open(id uuid.UUID, e *replica.Entry) tea.Cmd {
	m.screen = screenList
	m.dialog = nil
	m.clearNotice()
	m.list = newListModel(m.sh, id, e)
	return m.list.reload()
}

// back returns to the lists screen.
func (m *model) back() tea.Cmd {
	if m.list != nil {
		m.lists.cursorID = m.list.id
	}
	m.screen, m.list, m.dialog = screenLists, nil, nil
	m.clearNotice()
	return m.lists.enter()
}

// result handles the result of a store operation.
func (m *model) result(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case listsLoadedMsg:
		if msg.err != nil {
			return m.fail(msg.err)
		}
		return m.lists.loaded(msg.entries)
	case listLoadedMsg:
		if m.list == nil || m.list.id != msg.id {
			return nil
		}
		if errors.Is(msg.err, replica.ErrNotFound) {
			name := m.list.name()
			return tea.Batch(m.back(), m.fail(errors.New("“"+name+"” is no longer on this device (forgotten elsewhere)")))
		}
		if msg.err != nil {
			return m.fail(msg.err)
		}
		return m.list.loaded(msg.entry)
	case editedMsg:
		if msg.err != nil {
			return m.fail(msg.err)
		}
		if msg.step != nil {
			m.sh.undo.push(msg.id, msg.step)
		}
		var cmd tea.Cmd
		switch {
		case m.list != nil && m.list.id == msg.id:
			cmd = m.list.edited(msg)
		case m.screen == screenLists:
			// A delete or a restore from the lists screen: the user's own.
			m.lists.fresh = true
			cmd = m.lists.reload()
		}
		if msg.done != "" {
			return tea.Batch(cmd, m.notify(msg.done))
		}
		m.clearNotice() // an earlier error is over
		return cmd
	case createdMsg:
		if msg.err != nil {
			return m.fail(msg.err)
		}
		return tea.Batch(m.open(msg.entry.List.ID(), &msg.entry),
			m.notify("created “"+msg.entry.List.Name()+"”: press a to add items, s to share"))
	case forgottenMsg:
		if msg.err != nil {
			return m.fail(msg.err)
		}
		return tea.Batch(m.lists.reload(), m.notify("forgot “"+msg.name+"” on this device"))
	}
	return nil
}

// event turns an engine event into reloads of what is on screen.
func (m *model) event(ev syncer.Event) tea.Cmd {
	switch ev.Kind {
	case syncer.StatusChanged:
		return statusCmd(m.sh.eng)
	case syncer.ListChanged:
		if len(ev.Dropped) > 0 {
			// Shown whatever the screen: edits the cluster had forgotten.
			cmd := m.setNotice(droppedNotice(ev.Dropped), true, 4*noticeDuration)
			m.noticeSticky = true
			return tea.Batch(cmd, m.reloadFor(ev))
		}
		return m.reloadFor(ev)
	case syncer.ListsChanged:
		if m.screen == screenList && m.list != nil {
			return m.list.reload()
		}
		return m.lists.reload()
	}
	return nil
}

// droppedNotice tells the user which items a sync dropped.
func droppedNotice(items []string) string {
	return "away longer than the cluster remembers removes: dropped or reset " + strings.Join(quoted(items), ", ")
}

// quoted returns the names in curly quotes.
func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "“" + n + "”"
	}
	return out
}

// reloadFor reloads what shows the list a ListChanged event names.
func (m *model) reloadFor(ev syncer.Event) tea.Cmd {
	if m.screen == screenList && m.list != nil {
		if m.list.id != ev.List {
			return nil
		}
		if ev.Remote {
			m.list.remoteKeys = append(m.list.remoteKeys, ev.Keys...)
		}
		return m.list.reload()
	}
	if ev.Remote {
		m.lists.remote[ev.List] = true
	}
	return m.lists.reload()
}

// polled handles a poll: a new store generation means some process wrote
// to the data dir, so what is on screen is read again.
func (m *model) polled(msg polledMsg) tea.Cmd {
	m.sh.status = msg.status
	if msg.err != nil {
		return nil
	}
	changed := m.genKnown && msg.gen != m.gen
	m.gen, m.genKnown = msg.gen, true
	if !changed {
		return nil
	}
	if m.screen == screenList && m.list != nil {
		return m.list.reload()
	}
	return m.lists.reload()
}

// joined handles the end of a join.
func (m *model) joined(msg joinedMsg) tea.Cmd {
	m.joining--
	switch {
	case errors.Is(msg.err, syncer.ErrNotFound):
		return m.setNotice("the cluster does not know list "+msg.id.String()+": check the ID", true, errorDuration)
	case m.sh.opts.Offline && msg.err != nil:
		return m.setNotice("offline mode: joining needs the cluster (start without --offline)", true, errorDuration)
	case errors.Is(msg.err, syncer.ErrOffline), errors.Is(msg.err, context.DeadlineExceeded):
		return m.setNotice("cannot reach the cluster to join: try again when online", true, errorDuration)
	case msg.err != nil:
		return m.fail(msg.err)
	}
	cmds := []tea.Cmd{m.notify("joined list " + msg.id.String()[:8] + "…")}
	if m.screen == screenLists && m.dialog == nil {
		cmds = append(cmds, m.open(msg.id, nil))
	} else {
		cmds = append(cmds, m.lists.reload())
	}
	return tea.Batch(cmds...)
}
