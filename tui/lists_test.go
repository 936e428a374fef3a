package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
)

var teatestTimeout = teatest.WithFinalTimeout(5 * time.Second)

// TestForgetAsksFirst checks that d asks before forgetting, says when
// unpushed changes would be lost, and that n keeps the list.
func TestForgetAsksFirst(t *testing.T) {
	store, other, eng := openStore(t), openStore(t), newFakeEngine(online)
	local := mustCreate(t, store, "Alpha", "milk") // created here: pending
	shared := mustCreate(t, other, "Beta", "tea")
	share(t, other, store, shared) // joined: nothing unpushed
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Alpha", "pending")
	h.waitLine("Beta", "synced")

	h.typeText("d")
	h.waitText("Forget “Alpha”?", "unpushed changes", "they will be lost")
	h.typeText("n")
	h.waitFor("dialog closed", func(s string) bool { return !strings.Contains(s, "Forget “") })
	if _, err := store.Get(local); err != nil {
		t.Fatalf("n forgot the list: %v", err)
	}

	h.press(tea.KeyDown)
	h.typeText("d")
	h.waitText("Forget “Beta”?")
	if strings.Contains(h.screen(), "unpushed") {
		t.Fatalf("a synced list is said to have unpushed changes:\n%s", h.screen())
	}
	h.typeText("y")
	h.waitText("forgot “Beta”")
	h.waitFor("Beta gone", func(s string) bool { return strings.Contains(s, "Lists (1)") && lineWith(s, " Beta ") == "" })
	if _, err := store.Get(shared); !errors.Is(err, replica.ErrNotFound) {
		t.Fatalf("Beta still in the store: %v", err)
	}
	if _, err := store.Get(local); err != nil {
		t.Fatalf("Alpha went too: %v", err)
	}
}

// TestFilterLists checks / filters by name as one types, that q is text
// while typing, and esc clears.
func TestFilterLists(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	for _, n := range []string{"Groceries", "Hardware", "Garden party"} {
		mustCreate(t, store, n)
	}
	h := start(t, store, eng, Options{}, nil)
	h.waitText("Groceries", "Hardware", "Garden party")

	h.typeText("/gar")
	h.waitFor("only Garden party", func(s string) bool {
		return strings.Contains(s, "Garden party") && !strings.Contains(s, "Groceries") && !strings.Contains(s, "Hardware")
	})
	h.typeText("q")
	h.waitText("No list matches “garq”")
	h.press(tea.KeyBackspace)
	h.press(tea.KeyEnter) // keep the filter, leave the input
	h.waitText("(esc clears)")
	h.press(tea.KeyEnter) // opens the one match
	h.waitText("Garden party · 0 of 0 left")
	h.press(tea.KeyEsc)
	h.waitText("(esc clears)")
	h.press(tea.KeyEsc) // clears the filter
	h.waitText("Groceries", "Hardware", "Garden party")
}

// TestJoinByID checks that j validates the ID, calls the engine, opens the
// joined list, and reports a list the cluster does not know.
func TestJoinByID(t *testing.T) {
	store, remote, eng := openStore(t), openStore(t), newFakeEngine(online)
	id := mustCreate(t, remote, "Family", "bread 2")
	e := mustGet(t, remote, id)
	eng.join = func(_ context.Context, want uuid.UUID) error {
		if want != id {
			return syncer.ErrNotFound
		}
		_, _, err := store.Merge(e.List, true)
		return err
	}
	h := start(t, store, eng, Options{}, nil)
	h.waitText("No lists yet")

	h.typeText("j")
	h.waitText("Join a shared list")
	h.typeText("not-an-id")
	h.press(tea.KeyEnter)
	h.waitText("not a list ID")
	h.press(tea.KeyCtrlU)
	h.typeText(id.String())
	h.press(tea.KeyEnter)
	h.waitText("Family · 1 of 1 left")
	h.waitMatch(itemRow(false, "bread", 2, 0, 2))
	if got := eng.joined(); !slices.Equal(got, []uuid.UUID{id}) {
		t.Fatalf("engine joins %v, want [%s]", got, id)
	}

	h.press(tea.KeyEsc)
	h.waitText("Lists (1)")
	unknown := uuid.New()
	h.typeText("j")
	h.typeText(unknown.String())
	h.press(tea.KeyEnter)
	h.waitText("does not know list")
}

// TestJoinDoesNotBlock checks that a slow join leaves the UI working.
func TestJoinDoesNotBlock(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(syncer.Status{Conn: syncer.Connecting})
	release := make(chan struct{})
	eng.join = func(ctx context.Context, _ uuid.UUID) error {
		select {
		case <-release:
			return syncer.ErrOffline
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := start(t, store, eng, Options{}, nil)
	h.waitText("No lists yet")
	h.typeText("j")
	h.typeText(uuid.NewString())
	h.press(tea.KeyEnter)
	h.waitText("⟳ joining")

	h.typeText("n")
	h.typeText("Meanwhile")
	h.press(tea.KeyEnter)
	h.waitText("Meanwhile · 0 of 0 left")
	close(release)
	h.waitText("cannot reach the cluster")
	h.waitFor("joining gone", func(s string) bool { return !strings.Contains(s, "⟳ joining") })
}

// TestStatusBar checks the status bar follows the engine: offline, online,
// syncing, pending, the proxy, the last error; and the per-list badges.
func TestStatusBar(t *testing.T) {
	store, other := openStore(t), openStore(t)
	mustCreate(t, store, "Mine")
	theirs := mustCreate(t, other, "Theirs")
	share(t, other, store, theirs)
	eng := newFakeEngine(syncer.Status{Conn: syncer.Offline, Proxy: "tcp://127.0.0.1:5556", Pending: 1})
	h := start(t, store, eng, Options{Proxy: "tcp://127.0.0.1:5556"}, nil)
	h.waitText("○ offline", "1 list pending", "proxy tcp://127.0.0.1:5556")
	h.waitLine("Mine", "● pending")
	h.waitLine("Theirs", "○ offline")

	eng.setStatus(syncer.Status{Conn: syncer.Online, Syncing: true, Pending: 2, Proxy: "tcp://127.0.0.1:5557"})
	h.waitText("● online", "⟳ syncing", "2 lists pending", "proxy tcp://127.0.0.1:5557")
	h.waitLine("Theirs", "✓ synced")

	eng.setStatus(syncer.Status{Conn: syncer.Online, Proxy: "tcp://127.0.0.1:5557", LastErr: "clock skew: server refused"})
	h.waitText("all synced", "⚠ sync: clock skew")
	eng.setStatus(syncer.Status{Conn: syncer.Connecting, Proxy: "tcp://127.0.0.1:5557"})
	h.waitText("◌ connecting")
}

// TestStatusBarOfflineMode checks --offline is shown as such.
func TestStatusBarOfflineMode(t *testing.T) {
	h := start(t, openStore(t), newFakeEngine(syncer.Status{}), Options{Offline: true, Proxy: "tcp://x:1"}, nil)
	h.waitText("offline mode")
	if strings.Contains(h.screen(), "tcp://x:1") {
		t.Fatalf("offline mode shows a proxy:\n%s", h.screen())
	}
}

// TestFitsSmallTerminals checks long names are cut with … and that every
// frame fits the terminal, also after a resize.
func TestFitsSmallTerminals(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	long := strings.Repeat("Very long list name ", 9)
	id := mustCreate(t, store, long, strings.Repeat("item with a long name ", 8)+"3", "milk")
	h := start(t, store, eng, Options{Proxy: online.Proxy}, nil)
	fits := func(w, hgt int) func(string) bool {
		return func(s string) bool {
			lines := strings.Split(s, "\n")
			for _, l := range lines {
				if ansi.StringWidth(l) > w {
					return false
				}
			}
			return len(lines) == hgt
		}
	}
	h.waitLine("Very long list name", "…")
	h.waitFor("80×24 frame", fits(80, 24))
	h.press(tea.KeyEnter)
	h.waitLine("item with a long name", "…", "3")
	h.waitFor("80×24 frame", fits(80, 24))
	h.typeText("?")
	h.waitText("want fewer")
	h.waitFor("80×24 frame with full help", fits(80, 24))

	h.tm.Send(tea.WindowSizeMsg{Width: 50, Height: 14})
	h.waitFor("50×14 frame", func(s string) bool { return fits(50, 14)(s) && lineWith(s, "milk") != "" })
	h.typeText("s")
	h.waitText(id.String()[:30])
	h.waitFor("50×14 frame with a dialog", fits(50, 14))
}

// TestForgetKeepsAListEditedAfterTheWarning: a list shown as synced when
// the user confirmed, but edited meanwhile, is not deleted.
func TestForgetKeepsAListEditedAfterTheWarning(t *testing.T) {
	m, _ := newTestModel(t)
	store := m.sh.store
	e, err := store.Create("Fresh")
	if err != nil {
		t.Fatal(err)
	}
	e.Pending = false // as a synced entry on screen would say
	confirm := m.lists.forgetConfirm(e)
	msg := confirm.yes()().(ioDoneMsg).msg.(forgottenMsg)
	if !errors.Is(msg.err, replica.ErrPending) {
		t.Fatalf("forget of a list with unpushed changes confirmed without a warning: %v, want ErrPending", msg.err)
	}
	if _, err := store.Get(e.List.ID()); err != nil {
		t.Fatalf("the list was deleted: %v", err)
	}
}
