package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
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

// shared is the state the root model and the screens share. It is only used
// from the Update goroutine (and View, which Bubble Tea calls from the same
// goroutine), so it needs no lock.
type shared struct {
	store         *replica.Store
	eng           Engine
	opts          Options
	ctx           context.Context // ends when the UI quits: stops event waits and joins
	clip          io.Writer       // where OSC 52 clipboard sequences go; nil = cannot copy
	width, height int
	status        syncer.Status
	queue         ioQueue // store operations, one at a time
	dialog        dialog  // the open dialog, or nil
	notice        string  // one-line message under the screen
	noticeErr     bool
	noticeSeq     int
	joining       int           // joins in flight
	poll          time.Duration // how often to poll the store generation; 0 = never (tests)
	nav           *navigation   // a screen change a screen asked for, applied by the root
}

// navigation is a screen change asked for by a screen's key handler; the
// root applies it before the next key, so no key lands on the old screen.
type navigation struct {
	back bool      // to the lists screen
	open uuid.UUID // else: this list
}

// io queues a store operation; see ioQueue.
func (s *shared) io(op ioOp) tea.Cmd { return s.queue.push(op) }

// notify shows text under the screen for a few seconds.
func (s *shared) notify(text string) tea.Cmd { return s.setNotice(text, false, noticeDuration) }

// fail shows err under the screen, in words a person can act on.
func (s *shared) fail(err error) tea.Cmd {
	return s.setNotice(friendly(err), true, errorDuration)
}

func (s *shared) setNotice(text string, isErr bool, d time.Duration) tea.Cmd {
	s.noticeSeq++
	seq := s.noticeSeq
	s.notice, s.noticeErr = text, isErr
	return tea.Tick(d, func(time.Time) tea.Msg { return noticeDoneMsg{seq} })
}

// model is the root model: it owns the shared state, turns engine events
// and polls into reloads, and routes keys to the open dialog or screen.
type model struct {
	sh       *shared
	cancel   context.CancelFunc
	events   <-chan syncer.Event
	screen   screen
	lists    *listsModel
	list     *listModel // the open list; nil on the lists screen
	help     help.Model
	gen      uint64 // last Store.Generation seen
	genKnown bool
	quitting bool // quit was asked for; waiting for queued edits to be saved
}

func newModel(store *replica.Store, eng Engine, opts Options) *model {
	if eng == nil {
		eng = offlineEngine{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	sh := &shared{store: store, eng: eng, opts: opts, ctx: ctx, width: defaultWidth, height: defaultHeight,
		poll: pollInterval}
	sh.status.Proxy = opts.Proxy
	h := help.New()
	h.Width = defaultWidth
	return &model{sh: sh, cancel: cancel, events: eng.Events(), lists: newListsModel(sh), help: h}
}

// stop ends the model's background waits.
func (m *model) stop() { m.cancel() }

// Init loads the lists and starts the event wait and the poll.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.lists.enter(), waitEventCmd(m.sh.ctx, m.events), statusCmd(m.sh.eng)}
	if m.sh.poll > 0 {
		cmds = append(cmds, pollCmd(m.sh.store, m.sh.eng))
	}
	return tea.Batch(cmds...)
}

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.sh.width, m.sh.height = msg.Width, msg.Height
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
		return m, tea.Batch(m.event(msg.ev), waitEventCmd(m.sh.ctx, m.events))
	case engineClosedMsg:
		return m, nil
	case statusMsg:
		m.sh.status = msg.status
		return m, nil
	case pollMsg:
		return m, pollCmd(m.sh.store, m.sh.eng)
	case polledMsg:
		return m, tea.Batch(m.polled(msg), pollTick(m.sh.poll))
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
		if msg.seq == m.sh.noticeSeq {
			m.sh.notice = ""
		}
		return m, nil
	case copiedMsg:
		if msg.err != nil {
			return m, m.sh.fail(msg.err)
		}
		return m, nil
	}
	// Anything else (cursor blinks) belongs to the focused text input.
	if m.sh.dialog != nil {
		_, cmd := m.sh.dialog.update(msg)
		return m, cmd
	}
	if m.screen == screenLists {
		return m, m.lists.update(msg)
	}
	return m, nil
}

// key routes a key press: ctrl+c always quits; an open dialog takes every
// other key; q and ? work unless the user is typing.
func (m *model) key(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, globalKeys.ForceQuit) {
		return m.quit()
	}
	if d := m.sh.dialog; d != nil {
		closed, cmd := d.update(k)
		if closed && m.sh.dialog == d {
			m.sh.dialog = nil
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
	if m.screen == screenList && m.list != nil {
		cmd = m.list.key(k)
	} else {
		cmd = m.lists.key(k)
	}
	if nav := m.sh.nav; nav != nil {
		m.sh.nav = nil
		if nav.back {
			return tea.Batch(cmd, m.back())
		}
		return tea.Batch(cmd, m.open(nav.open, nil))
	}
	return cmd
}

// typing reports whether keys are text for an input.
func (m *model) typing() bool {
	return m.sh.dialog != nil || (m.screen == screenLists && m.lists.filtering)
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
	m.sh.notice = "saving your last edit before quitting…"
	return nil
}

// open shows list id; e, when known, is shown until the load finishes.
func (m *model) open(id uuid.UUID, e *replica.Entry) tea.Cmd {
	m.screen = screenList
	m.sh.dialog = nil
	m.list = newListModel(m.sh, id, e)
	return m.list.reload()
}

// back returns to the lists screen.
func (m *model) back() tea.Cmd {
	if m.list != nil {
		m.lists.cursorID = m.list.id
	}
	m.screen, m.list, m.sh.dialog = screenLists, nil, nil
	return m.lists.enter()
}

// result handles the result of a store operation.
func (m *model) result(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case listsLoadedMsg:
		if msg.err != nil {
			return m.sh.fail(msg.err)
		}
		return m.lists.loaded(msg.entries)
	case listLoadedMsg:
		if m.list == nil || m.list.id != msg.id {
			return nil
		}
		if errors.Is(msg.err, replica.ErrNotFound) {
			name := m.list.name()
			return tea.Batch(m.back(), m.sh.fail(errors.New("“"+name+"” is no longer on this device (forgotten elsewhere)")))
		}
		if msg.err != nil {
			return m.sh.fail(msg.err)
		}
		return m.list.loaded(msg.entry)
	case editedMsg:
		if msg.err != nil {
			return m.sh.fail(msg.err)
		}
		var cmd tea.Cmd
		if m.list != nil && m.list.id == msg.id {
			cmd = m.list.edited(msg)
		}
		if msg.done != "" {
			return tea.Batch(cmd, m.sh.notify(msg.done))
		}
		return cmd
	case createdMsg:
		if msg.err != nil {
			return m.sh.fail(msg.err)
		}
		return tea.Batch(m.open(msg.entry.List.ID(), &msg.entry),
			m.sh.notify("created “"+msg.entry.List.Name()+"”: press a to add items, s to share"))
	case forgottenMsg:
		if msg.err != nil {
			return m.sh.fail(msg.err)
		}
		return tea.Batch(m.lists.reload(), m.sh.notify("forgot “"+msg.name+"” on this device"))
	}
	return nil
}

// event turns an engine event into reloads of what is on screen.
func (m *model) event(ev syncer.Event) tea.Cmd {
	switch ev.Kind {
	case syncer.StatusChanged:
		return statusCmd(m.sh.eng)
	case syncer.ListChanged:
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
	case syncer.ListsChanged:
		if m.screen == screenList && m.list != nil {
			return m.list.reload()
		}
		return m.lists.reload()
	}
	return nil
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
	m.sh.joining--
	switch {
	case errors.Is(msg.err, syncer.ErrNotFound):
		return m.sh.setNotice("the cluster does not know list "+msg.id.String()+": check the ID", true, errorDuration)
	case m.sh.opts.Offline && msg.err != nil:
		return m.sh.setNotice("offline mode: joining needs the cluster (start without --offline)", true, errorDuration)
	case errors.Is(msg.err, syncer.ErrOffline), errors.Is(msg.err, context.DeadlineExceeded):
		return m.sh.setNotice("cannot reach the cluster to join: try again when online", true, errorDuration)
	case msg.err != nil:
		return m.sh.fail(msg.err)
	}
	cmds := []tea.Cmd{m.sh.notify("joined list " + msg.id.String()[:8] + "…")}
	if m.screen == screenLists && m.sh.dialog == nil {
		cmds = append(cmds, m.open(msg.id, nil))
	} else {
		cmds = append(cmds, m.lists.reload())
	}
	return tea.Batch(cmds...)
}

// View renders the whole screen: header, body, dialog, notice, status bar
// and help, exactly as tall as the terminal.
func (m *model) View() string {
	w, h := max(m.sh.width, 20), max(m.sh.height, 6)
	var title string
	var body func(w, h int) []string
	var keys help.KeyMap
	if m.screen == screenList && m.list != nil {
		title, body, keys = m.list.title(), m.list.view, listKeys
	} else {
		title, body, keys = m.lists.title(), m.lists.view, listsKeys
		if m.lists.filtering {
			keys = filterKeys
		}
	}
	var foot []string
	if m.sh.dialog != nil {
		keys = m.sh.dialog.keys()
		foot = append(foot, strings.Split(m.sh.dialog.view(w), "\n")...)
	}
	foot = append(foot, m.noticeView(w), statusView(m.sh, w))
	foot = append(foot, strings.Split(m.help.View(keys), "\n")...)

	header := clip(styles.titleApp.Render("shoplist")+styles.title.Render(title), w)
	bodyH := max(h-1-len(foot), 1)
	lines := body(w, bodyH)
	for len(lines) < bodyH {
		lines = append(lines, "")
	}
	out := append([]string{header}, lines[:bodyH]...)
	out = append(out, foot...)
	if len(out) > h {
		out = out[len(out)-h:]
	}
	return lipgloss.NewStyle().MaxWidth(w).Render(strings.Join(out, "\n"))
}

// noticeView renders the notice line: the last message, or the engine's
// last sync error.
func (m *model) noticeView(w int) string {
	switch {
	case m.sh.notice != "" && m.sh.noticeErr:
		return clip(styles.errNotice.Render("✗ "+m.sh.notice), w)
	case m.sh.notice != "":
		return clip(styles.notice.Render("✓ "+m.sh.notice), w)
	case m.sh.status.LastErr != "":
		return clip(styles.warn.Render("⚠ sync: "+strings.TrimPrefix(m.sh.status.LastErr, "syncer: ")), w)
	}
	return ""
}
