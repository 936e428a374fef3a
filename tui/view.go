package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
)

// View renders the whole screen: header, body, dialog, notice, status bar
// and help, exactly as tall as the terminal.
func (m *model) View() string {
	w, h := max(m.width, 20), max(m.height, 6)
	var title string
	var body func(w, h int) []string
	var keys help.KeyMap
	if m.screen == screenList && m.list != nil {
		title, body, keys = m.list.title(), m.list.view, listKeys
		if m.list.searching {
			keys = filterKeys
		}
	} else {
		title, body, keys = m.lists.title(), m.lists.view, listsKeys
		if m.lists.filtering {
			keys = filterKeys
		}
	}
	var foot []string
	if m.dialog != nil {
		keys = m.dialog.keys()
		foot = append(foot, strings.Split(m.dialog.view(w), "\n")...)
	}
	foot = append(foot, m.noticeView(w), statusView(m.sh.status, m.sh.opts, m.joining, w))
	foot = append(foot, strings.Split(m.helpView(keys, w), "\n")...)

	header := clip(styles.titleApp.Render("shoplist")+styles.title.Render(title), w)
	bodyH := max(h-1-len(foot), 1)
	// A rendered block (a padded message) is several lines in one string:
	// count it as the lines it takes, and keep the top of the body.
	var lines []string
	for _, l := range body(w, bodyH) {
		lines = append(lines, strings.Split(l, "\n")...)
	}
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

// helpView renders the help of keys: every key with ?, else one line of
// the screen's keys that ends, whatever the width, in the keys that show
// the rest and quit (ctrl+c while typing, when ? and q are text).
func (m *model) helpView(keys help.KeyMap, w int) string {
	if m.help.ShowAll {
		return m.help.View(keys)
	}
	essential := []key.Binding{globalKeys.Help, globalKeys.Quit}
	if m.typing() {
		essential = []key.Binding{globalKeys.ForceQuit}
	}
	own := keys.ShortHelp()
	hm := m.help
	hm.Width = 0 // measured here: the help's own cut would drop the essential keys
	for n := len(own); n >= 0; n-- {
		v := hm.ShortHelpView(append(own[:n:n], essential...))
		if lipgloss.Width(v) <= w {
			return v
		}
	}
	return hm.ShortHelpView(essential)
}

// noticeView renders the notice line: the last message, or the engine's
// last sync error.
func (m *model) noticeView(w int) string {
	switch {
	case m.notice != "" && m.noticeErr:
		return clip(styles.errNotice.Render("✗ "+m.notice), w)
	case m.notice != "":
		return clip(styles.notice.Render("✓ "+m.notice), w)
	case m.sh.status.LastErr != "":
		return clip(styles.warn.Render("⚠ "+syncTrouble(m.sh.status)), w)
	}
	return ""
}
