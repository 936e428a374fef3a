package tui

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
)

// fakeEngine implements Engine for tests: the test sets its status, sees
// its kicks and joins, and injects events.
type fakeEngine struct {
	events chan syncer.Event

	mu     sync.Mutex // guards the fields below
	status syncer.Status
	kicks  []uuid.UUID
	joins  []uuid.UUID
	join   func(ctx context.Context, id uuid.UUID) error // nil: ErrNotFound
}

func newFakeEngine(st syncer.Status) *fakeEngine {
	return &fakeEngine{events: make(chan syncer.Event, 64), status: st}
}

func (f *fakeEngine) Status() syncer.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeEngine) Events() <-chan syncer.Event { return f.events }

func (f *fakeEngine) Kick(ids ...uuid.UUID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kicks = append(f.kicks, ids...)
}

func (f *fakeEngine) Join(ctx context.Context, id uuid.UUID) error {
	f.mu.Lock()
	f.joins = append(f.joins, id)
	join := f.join
	f.mu.Unlock()
	if join == nil {
		return syncer.ErrNotFound
	}
	return join(ctx, id)
}

// setStatus changes the status and announces it, as the engine does.
func (f *fakeEngine) setStatus(st syncer.Status) {
	f.mu.Lock()
	f.status = st
	f.mu.Unlock()
	f.events <- syncer.Event{Kind: syncer.StatusChanged}
}

func (f *fakeEngine) kicked() []uuid.UUID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uuid.UUID(nil), f.kicks...)
}

func (f *fakeEngine) joined() []uuid.UUID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uuid.UUID(nil), f.joins...)
}

// remoteEdit plays another user: fn edits list id on the remote replica,
// the result is merged into local as the engine merges a live update, and
// the change is announced.
func (f *fakeEngine) remoteEdit(t *testing.T, local, remote *replica.Store, id uuid.UUID,
	fn func(l *crdt.List, c *crdt.Clock) error) {
	t.Helper()
	e, _, err := remote.Edit(id, fn)
	if err != nil {
		t.Fatalf("remote edit: %v", err)
	}
	_, keys, err := local.Merge(e.List, false)
	if err != nil {
		t.Fatalf("merge remote edit: %v", err)
	}
	f.events <- syncer.Event{Kind: syncer.ListChanged, List: id, Keys: keys, Remote: true}
}

// openStore opens a replica in a fresh directory, closed at the end.
func openStore(t *testing.T) *replica.Store {
	t.Helper()
	s, err := replica.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// mustCreate creates a list with items ("name", qty pairs as "milk 2").
func mustCreate(t *testing.T, s *replica.Store, name string, items ...string) uuid.UUID {
	t.Helper()
	e, err := s.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	id := e.List.ID()
	if len(items) > 0 {
		mustEdit(t, s, id, func(l *crdt.List, c *crdt.Clock) error {
			for _, it := range items {
				n, q, err := parseAdd(it)
				if err != nil {
					return err
				}
				if err := l.Add(c, n, q); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return id
}

func mustEdit(t *testing.T, s *replica.Store, id uuid.UUID, fn func(l *crdt.List, c *crdt.Clock) error) replica.Entry {
	t.Helper()
	e, _, err := s.Edit(id, fn)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// share makes list id of from known to to, as a join would.
func share(t *testing.T, from, to *replica.Store, id uuid.UUID) {
	t.Helper()
	e, err := from.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := to.Merge(e.List, true); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t *testing.T, s *replica.Store, id uuid.UUID) replica.Entry {
	t.Helper()
	e, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder wraps the root model and keeps its last frame, so tests can
// look at the whole screen (the renderer only writes changed lines).
type recorder struct {
	m *model

	mu    sync.Mutex // guards frame and raw
	frame string     // last View, without escape sequences
	raw   []string   // every View, as Bubble Tea gets it to write
}

func (r *recorder) Init() tea.Cmd { return r.m.Init() }

func (r *recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := r.m.Update(msg)
	return r, cmd
}

func (r *recorder) View() string {
	v := r.m.View()
	r.mu.Lock()
	r.frame = ansi.Strip(v)
	r.raw = append(r.raw, v)
	r.mu.Unlock()
	return v
}

// harness runs the UI in a teatest program at 80×24.
type harness struct {
	t     *testing.T
	store *replica.Store
	eng   *fakeEngine
	rec   *recorder
	tm    *teatest.TestModel
}

// Terminal size of the tests.
const termW, termH = 80, 24

// start runs the UI over store and eng. setup, if not nil, adjusts the
// model before it starts (e.g. its poll interval). Polling is off unless
// setup turns it on, so a test of live updates sees only engine events.
func start(t *testing.T, store *replica.Store, eng *fakeEngine, opts Options, setup func(*model)) *harness {
	t.Helper()
	m := newModel(store, eng, opts)
	m.poll = 0
	if setup != nil {
		setup(m)
	}
	h := &harness{t: t, store: store, eng: eng, rec: &recorder{m: m}}
	h.tm = teatest.NewTestModel(t, h.rec, teatest.WithInitialTermSize(termW, termH))
	t.Cleanup(func() {
		_ = h.tm.Quit()
		h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		m.stop()
	})
	return h
}

// startOnList starts the UI over store and opens the list named name,
// the first on the lists screen, once row (a pattern, see itemRow) shows.
func startOnList(t *testing.T, store *replica.Store, eng *fakeEngine, name, row string) *harness {
	t.Helper()
	h := start(t, store, eng, Options{}, nil)
	h.waitLine(name)
	h.press(tea.KeyEnter)
	h.waitMatch(row)
	return h
}

// screen returns the last frame.
func (h *harness) screen() string {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	return h.rec.frame
}

// wrote counts the frames given to Bubble Tea to write that hold seq.
func (h *harness) wrote(seq string) int {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	n := 0
	for _, f := range h.rec.raw {
		if strings.Contains(f, seq) {
			n++
		}
	}
	return n
}

// screenTB reports a failed wait with the screen it saw.
type screenTB struct {
	testing.TB
	h    *harness
	what string
}

func (s screenTB) Fatal(...any) {
	s.TB.Helper()
	s.TB.Fatalf("timed out waiting for %s; screen:\n%s", s.what, s.h.screen())
}

// waitFor waits until cond holds for the screen, for at most d (default 3 s).
func (h *harness) waitFor(what string, cond func(screen string) bool, d ...time.Duration) {
	h.t.Helper()
	dur := 3 * time.Second
	if len(d) > 0 {
		dur = d[0]
	}
	teatest.WaitFor(screenTB{h.t, h, what}, h.tm.Output(), func([]byte) bool { return cond(h.screen()) },
		teatest.WithDuration(dur), teatest.WithCheckInterval(5*time.Millisecond))
}

// waitText waits until the screen shows every one of texts.
func (h *harness) waitText(texts ...string) {
	h.t.Helper()
	h.waitFor(strings.Join(texts, " and "), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

// waitLine waits until some line of the screen holds every one of parts.
func (h *harness) waitLine(parts ...string) {
	h.t.Helper()
	h.waitFor("a line with "+strings.Join(parts, ", "), func(s string) bool { return lineWith(s, parts...) != "" })
}

// lineWith returns the first line of s holding every one of parts, or "".
func lineWith(s string, parts ...string) string {
	for _, l := range strings.Split(s, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return l
		}
	}
	return ""
}

// lineIndex returns the index of the first line of s holding text, or -1.
func lineIndex(s, text string) int {
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, text) {
			return i
		}
	}
	return -1
}

func (h *harness) typeText(s string) { h.tm.Type(s) }

func (h *harness) press(k tea.KeyType) { h.tm.Send(tea.KeyMsg{Type: k}) }

// waitStore waits until cond holds for list id in the store.
func (h *harness) waitStore(what string, id uuid.UUID, cond func(replica.Entry) bool) replica.Entry {
	h.t.Helper()
	var last replica.Entry
	h.waitFor(what, func(string) bool {
		e, err := h.store.Get(id)
		last = e
		return err == nil && cond(e)
	})
	return last
}

// waitMatch waits until some line of the screen matches the regular
// expression pattern.
func (h *harness) waitMatch(pattern string) {
	h.t.Helper()
	re := regexp.MustCompile(pattern)
	h.waitFor("a line matching "+pattern, func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if re.MatchString(l) {
				return true
			}
		}
		return false
	})
}

// itemRow is the pattern of an item row: check box, name, wanted, bought, left.
func itemRow(checked bool, name string, wanted, bought, left int) string {
	box := `\[ \]`
	if checked {
		box = `\[✓\]`
	}
	return fmt.Sprintf(`%s %s\s+%d\s+%d\s+%d\s*$`, box, regexp.QuoteMeta(name), wanted, bought, left)
}
