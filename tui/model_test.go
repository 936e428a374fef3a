package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
)

// TestIOQueue checks store operations run one at a time, in order, and
// that a queued op with the same key is not queued twice.
func TestIOQueue(t *testing.T) {
	var q ioQueue
	var ran []string
	op := func(name, key string) ioOp {
		return ioOp{key: key, run: func() tea.Msg { ran = append(ran, name); return name }}
	}
	first := q.push(op("a", ""))
	if first == nil {
		t.Fatal("an idle queue did not start its op")
	}
	for _, o := range []ioOp{op("b", "load"), op("c", "load"), op("d", "")} {
		if cmd := q.push(o); cmd != nil {
			t.Fatal("a busy queue started another op")
		}
	}
	for cmd := first; cmd != nil; cmd = q.done() {
		if msg, ok := cmd().(ioDoneMsg); !ok || msg.msg != ran[len(ran)-1] {
			t.Fatalf("op result %v, want ioDoneMsg{%q}", msg, ran[len(ran)-1])
		}
	}
	if !slices.Equal(ran, []string{"a", "b", "d"}) {
		t.Fatalf("ran %v, want [a b d]", ran)
	}
	if q.busy || len(q.ops) > 0 {
		t.Fatal("queue not idle at the end")
	}
}

func TestParseAdd(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		qty  int64
		err  bool
	}{
		{"milk", "milk", 1, false},
		{"  milk   2 ", "milk", 2, false},
		{"oat milk 12", "oat milk", 12, false},
		{"7", "", 0, true},
		{"milk 99999999999999999999", "", 0, true},
		{"milk 1000001", "", 0, true},
		{"milk +2", "milk", 2, false},
		{"vitamin b12", "vitamin b12", 1, false},
		{"milk 0", "", 0, true},
		{"milk -3", "", 0, true},
		{fmt.Sprintf("milk %d", crdt.MaxQuantity+1), "", 0, true},
		{"   ", "", 0, true},
	} {
		name, qty, err := parseAdd(c.in)
		if (err != nil) != c.err || name != c.name || qty != c.qty {
			t.Errorf("parseAdd(%q) = %q, %d, %v; want %q, %d, error %v", c.in, name, qty, err, c.name, c.qty, c.err)
		}
	}
}

// TestToggle checks space's edit: check buys all that remains, uncheck
// takes back all that was bought, and both do nothing when someone already
// did it.
func TestToggle(t *testing.T) {
	c := crdt.NewClock(uuid.New())
	l, _ := crdt.New(c, "t")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Add(c, "milk", 2))
	// Someone else sets wanted to 1 while this device checks the item off:
	// after the merge, 2 are bought of 1 wanted.
	other, otherClock := l.Clone(), crdt.NewClock(uuid.New())
	must(other.SetWanted(otherClock, "milk", 1))
	must(l.Buy(c, "milk", 1))
	must(toggle("milk", true)(l, c))
	if v, _ := l.Lookup("milk"); v.Bought != 2 || !v.Acquired {
		t.Fatalf("check bought %+v, want 2 of 2", v)
	}
	must(l.Merge(other))
	must(toggle("milk", true)(l, c))
	if v, _ := l.Lookup("milk"); v.Bought != 2 {
		t.Fatalf("check of a checked item changed it: %+v", v)
	}
	must(toggle("milk", false)(l, c))
	if v, _ := l.Lookup("milk"); v.Acquired || v.Remaining != 1 || v.Bought != 0 {
		t.Fatalf("uncheck left %+v, want nothing bought", v)
	}
	must(toggle("milk", false)(l, c))
	if v, _ := l.Lookup("milk"); v.Remaining != 1 {
		t.Fatalf("uncheck of an unchecked item changed it: %+v", v)
	}
	if err := toggle("bread", true)(l, c); !errors.Is(err, crdt.ErrNotFound) {
		t.Fatalf("toggle of a missing item: %v", err)
	}
}

// newTestModel returns a root model over a fresh store holding a list.
func newTestModel(t *testing.T) (*model, replica.Entry) {
	t.Helper()
	store := openStore(t)
	id := mustCreate(t, store, strings.Repeat("Long name ", 20), "milk 2", "bread", strings.Repeat("x", 150)+" 3")
	m := newModel(store, newFakeEngine(online), Options{Proxy: online.Proxy})
	t.Cleanup(m.stop)
	all, err := store.All()
	if err != nil {
		t.Fatal(err)
	}
	m.lists.loaded(all)
	return m, mustGet(t, store, id)
}

// TestViewFitsEveryState checks every frame is exactly the terminal's
// height and no line is wider than it, in every screen and dialog.
func TestViewFitsEveryState(t *testing.T) {
	m, e := newTestModel(t)
	states := []struct {
		name string
		set  func()
	}{
		{"lists", func() {}},
		{"filtering", func() { m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")}) }},
		{"forget dialog", func() {
			m.key(tea.KeyMsg{Type: tea.KeyEsc})
			m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d")})
		}},
		{"list", func() {
			m.dialog = nil
			m.open(e.List.ID(), &e)
		}},
		{"add prompt", func() { m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a")}) }},
		{"share dialog", func() {
			m.dialog = nil
			m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
		}},
		{"full help", func() {
			m.dialog = nil
			m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("?")})
		}},
		{"error notice", func() { m.fail(errors.New(strings.Repeat("very long error ", 20))) }},
	}
	for _, st := range states {
		st.set()
		for _, size := range [][2]int{{80, 24}, {40, 12}, {132, 43}} {
			m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%s at %v: %d lines", st.name, size, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%s at %v: line %d is %d wide: %q", st.name, size, i, w, ansi.Strip(l))
				}
			}
		}
	}
}

// TestRequestsTakeEffectBeforeTheNextKey checks that what a screen asks for
// on a key (another screen, a dialog) is done by the root before the next
// key, so that key goes to the new screen or dialog; and that a dialog's
// request comes back as the result of a command.
func TestRequestsTakeEffectBeforeTheNextKey(t *testing.T) {
	m, e := newTestModel(t)
	press := func(k tea.KeyMsg) tea.Cmd {
		_, cmd := m.Update(k)
		return cmd
	}
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

	press(tea.KeyMsg{Type: tea.KeyEnter})
	if m.screen != screenList || m.list == nil || m.list.id != e.List.ID() {
		t.Fatalf("enter did not open the list: screen %v", m.screen)
	}
	press(runes("a"))
	if p, ok := m.dialog.(*prompt); !ok || !strings.HasPrefix(p.title, "Add to") {
		t.Fatalf("a after enter did not open the add prompt: %#v", m.dialog)
	}
	press(tea.KeyMsg{Type: tea.KeyEsc})
	press(tea.KeyMsg{Type: tea.KeyEsc})
	if m.screen != screenLists || m.list != nil {
		t.Fatalf("esc did not go back: screen %v", m.screen)
	}
	press(runes("d"))
	if _, ok := m.dialog.(*confirm); !ok {
		t.Fatalf("d after esc did not ask to forget: %#v", m.dialog)
	}
	press(tea.KeyMsg{Type: tea.KeyEsc})

	id := uuid.New()
	press(runes("j"))
	press(runes(id.String()))
	cmd := press(tea.KeyMsg{Type: tea.KeyEnter})
	if m.dialog != nil || cmd == nil {
		t.Fatalf("enter in the join prompt: dialog %#v, command %v", m.dialog, cmd != nil)
	}
	req, ok := cmd().(joinMsg)
	if !ok || req.id != id {
		t.Fatalf("the join prompt asked for %#v, want joinMsg{%s}", req, id)
	}
	if m.joining != 0 {
		t.Fatal("a join counted before the root handled the request")
	}
	m.Update(req)
	if m.joining != 1 || !strings.Contains(m.notice, "joining "+id.String()) {
		t.Fatalf("after the join request: %d joins, notice %q", m.joining, m.notice)
	}
}

// TestEventsReloadOnlyWhatIsShown checks a change to another list does not
// reload the open one, and a remote change to it does, remembering its keys.
func TestEventsReloadOnlyWhatIsShown(t *testing.T) {
	m, e := newTestModel(t)
	m.open(e.List.ID(), &e)
	m.sh.queue = ioQueue{} // forget the open's load
	if cmd := m.event(syncer.Event{Kind: syncer.ListChanged, List: [16]byte{9}, Remote: true}); cmd != nil {
		t.Fatal("a change to another list reloads the open one")
	}
	if cmd := m.event(syncer.Event{Kind: syncer.ListChanged, List: e.List.ID(), Keys: []string{"milk"}, Remote: true}); cmd == nil {
		t.Fatal("a remote change to the open list does not reload it")
	}
	if !slices.Equal(m.list.remoteKeys, []string{"milk"}) {
		t.Fatalf("remote keys %v", m.list.remoteKeys)
	}
	if cmd := m.event(syncer.Event{Kind: syncer.StatusChanged}); cmd == nil {
		t.Fatal("a status change is not read")
	} else if _, ok := cmd().(statusMsg); !ok {
		t.Fatal("a status change does not read the status")
	}
}

// TestHighlightsOnlyChangedItems checks a reload highlights the items that
// changed, not on the first load, and that the tick ends it.
func TestHighlightsOnlyChangedItems(t *testing.T) {
	m, e := newTestModel(t)
	m.open(e.List.ID(), &e)
	if cmd := m.list.loaded(e); cmd != nil || len(m.list.hl.rows) > 0 {
		t.Fatal("the first load highlights")
	}
	e2 := mustEdit(t, m.sh.store, e.List.ID(), func(l *crdt.List, c *crdt.Clock) error {
		if err := l.Add(c, "eggs", 6); err != nil {
			return err
		}
		return l.Buy(c, "milk", 1)
	})
	if cmd := m.list.loaded(e2); cmd == nil {
		t.Fatal("no expiry tick for a highlight")
	}
	for k, want := range map[string]bool{"eggs": true, "milk": true, "bread": false, "": false} {
		if m.list.hl.on(k) != want {
			t.Errorf("highlight of %q is %v, want %v", k, !want, want)
		}
	}
	m.Update(highlightDoneMsg{screen: screenList, seq: m.list.hl.seq})
	if len(m.list.hl.rows) != 0 {
		t.Fatalf("highlights left after the tick: %v", m.list.hl.rows)
	}

	// An own edit that lands on top of a change merged meanwhile highlights
	// that change, not itself.
	other := openStore(t)
	share(t, m.sh.store, other, e.List.ID())
	theirs := mustEdit(t, other, e.List.ID(), func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, "tea", 1) })
	if _, _, err := m.sh.store.Merge(theirs.List, false); err != nil {
		t.Fatal(err)
	}
	msg := editOp(m.sh.store, m.sh.eng, e.List.ID(), editReq{toggle: true, fn: toggle("bread", true)}).run().(editedMsg)
	if msg.err != nil {
		t.Fatal(msg.err)
	}
	m.list.edited(msg)
	if !m.list.hl.on("tea") || m.list.hl.on("bread") {
		t.Fatalf("after an own edit over a merged change: highlights %v, want only tea", m.list.hl.rows)
	}
}

// TestQuitOnlyOutsideInputs checks q quits unless typed into an input, and
// that ctrl+c always quits.
func TestQuitOnlyOutsideInputs(t *testing.T) {
	m, _ := newTestModel(t)
	isQuit := func(cmd tea.Cmd) bool {
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	q := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}
	m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("n")})
	if isQuit(m.key(q)) {
		t.Fatal("q in a prompt quits")
	}
	if p, ok := m.dialog.(*prompt); !ok || p.input.Value() != "q" {
		t.Fatalf("q did not reach the prompt: %#v", m.dialog)
	}
	m.key(tea.KeyMsg{Type: tea.KeyEsc})
	m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	if isQuit(m.key(q)) {
		t.Fatal("q in the filter quits")
	}
	if !isQuit(m.key(tea.KeyMsg{Type: tea.KeyCtrlC})) {
		t.Fatal("ctrl+c does not quit while typing")
	}
	m.key(tea.KeyMsg{Type: tea.KeyEsc})
	if !isQuit(m.key(q)) {
		t.Fatal("q does not quit")
	}
	if m.ctx.Err() == nil {
		t.Fatal("quitting did not end the model's context")
	}
}

func TestNoticeExpires(t *testing.T) {
	m, _ := newTestModel(t)
	m.notify("one")
	old := m.noticeSeq
	m.fail(errors.New("two"))
	m.Update(noticeDoneMsg{old})
	if m.notice != "two" {
		t.Fatalf("an old tick cleared the newer notice: %q", m.notice)
	}
	m.Update(noticeDoneMsg{m.noticeSeq})
	if m.notice != "" {
		t.Fatalf("notice %q left after its tick", m.notice)
	}
}

func TestOSC52(t *testing.T) {
	if got, want := osc52("hi", false), "\x1b]52;c;aGk=\x07"; got != want {
		t.Errorf("osc52 = %q, want %q", got, want)
	}
	if got, want := osc52("hi", true), "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"; got != want {
		t.Errorf("osc52 in tmux = %q, want %q", got, want)
	}
}

func TestFriendlyErrors(t *testing.T) {
	l, _ := crdt.New(crdt.NewClock([16]byte{2}), "t")
	c := crdt.NewClock([16]byte{2})
	_ = l.Add(c, "milk", 1)
	over := l.Buy(c, "milk", 5)
	for _, e := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("replica: edit x: %w", over), `buying more than remains: 1 of "milk" remain, cannot buy 5`},
		{fmt.Errorf("replica: edit x: %w", errMinQuantity), errMinQuantity.Error()},
		{fmt.Errorf("replica: get: %w", replica.ErrNotFound), "that list is no longer on this device"},
	} {
		if got := friendly(e.err); got != e.want {
			t.Errorf("friendly(%v) = %q, want %q", e.err, got, e.want)
		}
	}
}

// TestQuitWaitsForQueuedEdits: an edit queued behind a slow one is saved
// before the program quits; queued reads are not waited for.
func TestQuitWaitsForQueuedEdits(t *testing.T) {
	m, _ := newTestModel(t)
	isQuit := func(cmd tea.Cmd) bool {
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	var ran []string
	op := func(name string) ioOp {
		return ioOp{run: func() tea.Msg { ran = append(ran, name); return nil }}
	}
	first := m.sh.queue.push(op("slow edit")) // running
	m.sh.queue.push(op("queued edit"))
	m.sh.queue.push(ioOp{key: "lists", run: func() tea.Msg { ran = append(ran, "read"); return nil }})

	if isQuit(m.key(tea.KeyMsg{Type: tea.KeyCtrlC})) {
		t.Fatal("quit while an edit was running and another queued")
	}
	if cmd := m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a")}); cmd != nil {
		t.Fatal("a key was handled while quitting")
	}
	_, next := m.Update(first())
	msg := next() // runs the queued edit
	if _, ok := msg.(tea.QuitMsg); ok {
		t.Fatal("quit before the queued edit ran")
	}
	_, last := m.Update(msg)
	if !isQuit(last) {
		t.Fatal("did not quit once every queued edit was saved")
	}
	if got := strings.Join(ran, ","); got != "slow edit,queued edit" {
		t.Fatalf("ran %q, want both edits and not the read", got)
	}
}

// TestDroppedItemsAreShownOnAnyScreen: a pull that dropped items the
// cluster had forgotten says so under the screen, even when another list is
// open.
func TestDroppedItemsAreShownOnAnyScreen(t *testing.T) {
	m, e := newTestModel(t)
	m.open(e.List.ID(), &e)
	m.event(syncer.Event{Kind: syncer.ListChanged, List: [16]byte{9}, Remote: true, Dropped: []string{"milk", "tea"}})
	if !m.noticeErr || !strings.Contains(m.notice, "“milk”, “tea”") {
		t.Fatalf("notice %q (error %v), want it to name milk and tea", m.notice, m.noticeErr)
	}
}
