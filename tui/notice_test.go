package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/client/syncer"
)

// TestNoticesBelongToTheirAction checks that a message goes when a later
// action succeeds, when a dialog or the filter opens, and when the user
// leaves the screen it was about.
func TestNoticesBelongToTheirAction(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	mustCreate(t, store, "Shop", "milk")
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Shop")
	noError := func(s string) bool { return !strings.Contains(s, "✗") }

	// An error, then a success: the error goes.
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "milk", 1, 0, 1))
	h.typeText("-")
	h.waitText("✗ the quantity is already 1")
	h.typeText("+")
	h.waitMatch(itemRow(false, "milk", 2, 0, 2))
	h.waitFor("the error gone after a success", noError)

	// A success on the list screen is not shown on the lists screen.
	h.typeText(" ")
	h.waitText("✓ checked off 2 × milk")
	h.press(tea.KeyEsc)
	h.waitLine("Shop", "all 1 bought")
	h.waitFor("the list screen's message gone", func(s string) bool { return !strings.Contains(s, "checked off") })

	// An error on the lists screen is not shown in the dialog opened next.
	h.typeText("j")
	h.typeText("6f1c0e2a-9b3d-4c5e-8f70-112233445566")
	h.press(tea.KeyEnter)
	h.waitText("✗ the cluster does not know list")
	h.typeText("d")
	h.waitText("Forget “Shop”?")
	h.waitFor("the error gone in the dialog", noError)
	h.press(tea.KeyEsc)

	// Nor while filtering.
	h.typeText("j")
	h.typeText("6f1c0e2a-9b3d-4c5e-8f70-112233445566")
	h.press(tea.KeyEnter)
	h.waitText("✗ the cluster does not know list")
	h.typeText("/")
	h.waitFor("the error gone while filtering", noError)
}

// TestConnectionStateHasOneSource checks that the list's badge and the
// status bar say the same about the connection, and that a sync error is
// said in words, not as the engine's raw error.
func TestConnectionStateHasOneSource(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(syncer.Status{Conn: syncer.Connecting, Proxy: "tcp://127.0.0.1:7655",
		LastErr: "syncer: cluster unreachable: tcp://127.0.0.1:7655 silent for 3.001s"})
	other := openStore(t)
	id := mustCreate(t, other, "Shared", "milk")
	share(t, other, store, id)
	h := start(t, store, eng, Options{}, nil)
	h.waitLine("Shared", "◌ connecting")
	h.press(tea.KeyEnter)
	h.waitMatch(itemRow(false, "milk", 1, 0, 1))
	h.waitText("cannot reach the cluster — retrying; your edits are saved")
	s := h.screen()
	if strings.Contains(s, "offline") || strings.Contains(s, "silent for") {
		t.Fatalf("the screen says offline while connecting, or shows the raw error:\n%s", s)
	}
	eng.setStatus(syncer.Status{Conn: syncer.Offline, Proxy: "tcp://127.0.0.1:7655", LastErr: "syncer: cluster unreachable"})
	h.waitFor("offline in the bar and on the list", func(s string) bool {
		return strings.Count(s, "○ offline") == 2 && !strings.Contains(s, "connecting")
	})
}
