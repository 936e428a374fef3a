package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/google/uuid"
)

// dialog is a small box shown above the status bar. While one is open it
// gets every key (but ctrl+c), so q and the screen keys are plain text.
type dialog interface {
	// update handles a message; closed reports that the dialog is done.
	update(msg tea.Msg) (closed bool, cmd tea.Cmd)
	// view renders the box width cells wide.
	view(width int) string
	// keys is the help of the dialog.
	keys() help.KeyMap
}

// box renders a dialog frame width cells wide around a title and lines.
func box(width int, title string, lines ...string) string {
	inner := max(width-4, 1) // border and padding
	out := []string{clip(styles.dialogTitle.Render(title), inner)}
	for _, l := range lines {
		out = append(out, clip(l, inner))
	}
	return styles.dialog.Width(width - 2).Render(strings.Join(out, "\n"))
}

// prompt asks for one line of text.
type prompt struct {
	title, hint string
	input       textinput.Model
	submit      func(value string) (tea.Cmd, error) // an error keeps the prompt open
	err         string
	stay        bool // after a submit, empty and open for the next value
}

// newPrompt returns a focused prompt holding value. submit runs on enter;
// when it fails the error is shown under the input and the prompt stays.
func newPrompt(title, hint, value string, submit func(string) (tea.Cmd, error)) (*prompt, tea.Cmd) {
	in := textinput.New()
	in.Prompt = "› "
	in.CharLimit = 300
	in.SetValue(value)
	in.CursorEnd()
	in.PromptStyle = styles.selected
	in.CompletionStyle = styles.subtle
	cmd := in.Focus()
	return &prompt{title: title, hint: hint, input: in, submit: submit}, cmd
}

// suggest turns on completion from names (tab accepts).
func (p *prompt) suggest(names []string) {
	p.input.ShowSuggestions = true
	p.input.SetSuggestions(names)
}

func (p *prompt) update(msg tea.Msg) (bool, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, promptKeys.Cancel):
			return true, nil
		case key.Matches(k, promptKeys.Complete) && p.input.ShowSuggestions:
			// Complete to the name as it is displayed, not to what was
			// typed followed by the rest of it.
			if s := p.input.CurrentSuggestion(); s != "" {
				p.input.SetValue(s)
				p.input.CursorEnd()
			}
			p.err = ""
			return false, nil
		case key.Matches(k, promptKeys.Submit):
			cmd, err := p.submit(p.input.Value())
			if err != nil {
				p.err = err.Error()
				return false, nil
			}
			if p.stay {
				p.input.SetValue("")
				return false, cmd
			}
			return true, cmd
		}
		p.err = ""
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return false, cmd
}

func (p *prompt) view(width int) string {
	// The input pads itself to Width but does not count the completion it
	// shows after the text, so leave room for that.
	completion := max(lipgloss.Width(p.input.CurrentSuggestion())-lipgloss.Width(p.input.Value()), 0)
	p.input.Width = max(width-4-lipgloss.Width(p.input.Prompt)-1-completion, 1)
	last := styles.dialogHint.Render(p.hint)
	if p.err != "" {
		last = styles.errNotice.Render("✗ " + p.err)
	}
	return box(width, p.title, p.input.View(), last)
}

func (p *prompt) keys() help.KeyMap { return promptKeys }

// confirm asks a yes/no question.
type confirm struct {
	title string
	lines []string
	yes   func() tea.Cmd
}

func (c *confirm) update(msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	switch {
	case !ok:
		return false, nil
	case key.Matches(k, confirmKeys.Yes):
		return true, c.yes()
	case key.Matches(k, confirmKeys.No):
		return true, nil
	}
	return false, nil
}

func (c *confirm) view(width int) string {
	lines := append([]string(nil), c.lines...)
	lines = append(lines, styles.dialogHint.Render("y: yes   n / esc: no"))
	return box(width, c.title, lines...)
}

func (c *confirm) keys() help.KeyMap { return confirmKeys }

// shareDialog shows a list's share ID and copies it to the clipboard. The
// copy is an OSC 52 escape sequence in the dialog's own frame, so Bubble
// Tea writes it with the rest of the screen: nothing else writes to the
// terminal. It goes out each time its line is drawn anew, which "copy
// again" forces by changing the line.
type shareDialog struct {
	id     uuid.UUID
	name   string
	tmux   bool
	copies int // times copied: each one changes the line that carries it
}

// newShare opens the share dialog, which copies the ID right away.
func newShare(id uuid.UUID, name string, tmux bool) *shareDialog {
	return &shareDialog{id: id, name: name, tmux: tmux, copies: 1}
}

func (s *shareDialog) update(msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	switch {
	case !ok:
		return false, nil
	case key.Matches(k, shareKeys.Copy):
		s.copies++
		return false, nil
	case key.Matches(k, shareKeys.Close):
		return true, nil
	}
	return false, nil
}

func (s *shareDialog) view(width int) string {
	copied := "Copied to your clipboard with OSC 52 (if your terminal allows it)."
	if s.copies > 1 {
		copied = fmt.Sprintf("Copied again (%d×) with OSC 52.", s.copies)
	}
	return box(width, "Share “"+s.name+"”",
		styles.id.Render(s.id.String()),
		osc52(s.id.String(), s.tmux)+styles.dialogHint.Render(copied),
		styles.dialogHint.Render("Anyone with this ID can join: j in their lists, or client join ID."))
}

func (s *shareDialog) keys() help.KeyMap { return shareKeys }
