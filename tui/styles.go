package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Colours adapt to light and dark terminals.
var (
	colAccent  = lipgloss.AdaptiveColor{Light: "#5A3FD6", Dark: "#A58BFF"}
	colDim     = lipgloss.AdaptiveColor{Light: "#8A8A8A", Dark: "#6C6C6C"}
	colGood    = lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#3FB950"}
	colWarn    = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#D29922"}
	colBad     = lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#F85149"}
	colBar     = lipgloss.AdaptiveColor{Light: "#E8E8EE", Dark: "#26233A"}
	colBarText = lipgloss.AdaptiveColor{Light: "#303030", Dark: "#D0D0D0"}
	colFresh   = lipgloss.AdaptiveColor{Light: "#FFF1B8", Dark: "#4A3F00"}
)

// styles holds every lipgloss style of the UI.
var styles = struct {
	title, titleApp, subtle, header      lipgloss.Style
	selected, checked, fresh, freshBar   lipgloss.Style
	good, warn, bad                      lipgloss.Style
	bar, barGood, barWarn, barBad, barID lipgloss.Style
	notice, errNotice                    lipgloss.Style
	dialog, dialogTitle, dialogHint, id  lipgloss.Style
	empty, category                      lipgloss.Style
}{
	titleApp:  lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(colAccent).Padding(0, 1),
	title:     lipgloss.NewStyle().Bold(true).Padding(0, 1),
	subtle:    lipgloss.NewStyle().Foreground(colDim),
	header:    lipgloss.NewStyle().Foreground(colDim).Bold(true),
	selected:  lipgloss.NewStyle().Bold(true).Foreground(colAccent),
	checked:   lipgloss.NewStyle().Foreground(colDim).Strikethrough(true),
	fresh:     lipgloss.NewStyle().Background(colFresh),
	freshBar:  lipgloss.NewStyle().Foreground(colWarn).Background(colFresh),
	good:      lipgloss.NewStyle().Foreground(colGood),
	warn:      lipgloss.NewStyle().Foreground(colWarn),
	bad:       lipgloss.NewStyle().Foreground(colBad),
	bar:       lipgloss.NewStyle().Foreground(colBarText).Background(colBar),
	barGood:   lipgloss.NewStyle().Foreground(colGood).Background(colBar).Bold(true),
	barWarn:   lipgloss.NewStyle().Foreground(colWarn).Background(colBar).Bold(true),
	barBad:    lipgloss.NewStyle().Foreground(colBad).Background(colBar).Bold(true),
	barID:     lipgloss.NewStyle().Foreground(colDim).Background(colBar),
	notice:    lipgloss.NewStyle().Foreground(colGood),
	errNotice: lipgloss.NewStyle().Foreground(colBad).Bold(true),
	dialog: lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(colAccent).
		Padding(0, 1),
	dialogTitle: lipgloss.NewStyle().Bold(true).Foreground(colAccent),
	dialogHint:  lipgloss.NewStyle().Foreground(colDim),
	id:          lipgloss.NewStyle().Bold(true),
	empty:       lipgloss.NewStyle().Foreground(colDim).Padding(1, 2),
	category:    lipgloss.NewStyle().Foreground(colAccent).Bold(true),
}

// fit truncates s (plain text) to w cells, ending in … when cut, and pads
// it with spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// fitRight is fit with the padding on the left.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s = strings.Repeat(" ", w-n) + s
	}
	return s
}

// clip cuts a rendered (styled) line to w cells.
func clip(s string, w int) string { return ansi.Truncate(s, w, "…") }
