package tui

import (
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"shoplist/crdt"
)

// errNoNameHere says the UI was started without a way to keep a name.
var errNoNameHere = errors.New("set your name with: client config set name NAME")

// namePrompt asks for the display name this device signs its edits with:
// collaborators see it next to what it changes and on a list it deletes.
func (s *shared) namePrompt() (tea.Cmd, tea.Msg) {
	if s.opts.SaveName == nil {
		return nil, failMsg{errNoNameHere}
	}
	hint := fmt.Sprintf("shown to those you share lists with: “bought by …” (at most %d bytes)", crdt.MaxAuthorBytes)
	p, cmd := newPrompt("Your name", hint, s.store.Author(), func(v string) (tea.Cmd, error) {
		name, err := crdt.CheckAuthor(v)
		if err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), crdt.ErrInvalidName.Error()+": "))
		}
		return func() tea.Msg { // a file write: off the Update goroutine
			saved, err := s.opts.SaveName(name)
			if err == nil {
				err = s.store.SetAuthor(saved)
			}
			return namedMsg{saved, err}
		}, nil
	})
	return cmd, openDialogMsg{p}
}

// namedMsg is the result of setting the user's name.
type namedMsg struct {
	name string
	err  error
}
