package tui

import (
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestNameIsSetFromTheListsScreen: @ asks for the user's name, refuses a
// name past the limit in the prompt, keeps a good one through
// Options.SaveName and signs edits with it from then on.
func TestNameIsSetFromTheListsScreen(t *testing.T) {
	store, eng := openStore(t), newFakeEngine(online)
	var mu sync.Mutex
	var saved []string
	opts := Options{SaveName: func(name string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, name)
		return name, nil
	}}
	h := start(t, store, eng, opts, nil)
	h.waitText("No lists yet")

	h.typeText("@")
	h.waitText("Your name")
	h.typeText(strings.Repeat("x", 33))
	h.press(tea.KeyEnter)
	h.waitText("33 bytes long, at most 32 allowed")
	for range 33 {
		h.press(tea.KeyBackspace)
	}
	h.typeText("Alice")
	h.press(tea.KeyEnter)
	h.waitText("your edits are signed “Alice” from now on")
	mu.Lock()
	got := append([]string(nil), saved...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "Alice" || store.Author() != "Alice" {
		t.Fatalf("saved %q, store signs %q; want Alice once", got, store.Author())
	}
}

// TestNameNeedsTheCommandLineWithoutSaveName: a UI that cannot keep a name
// says how to set one.
func TestNameNeedsTheCommandLineWithoutSaveName(t *testing.T) {
	h := start(t, openStore(t), newFakeEngine(online), Options{}, nil)
	h.waitText("No lists yet")
	h.typeText("@")
	h.waitText("client config set name NAME")
}
