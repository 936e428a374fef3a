package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// highlights remembers which rows of a screen changed under the user (live
// updates, other processes) so they can be drawn highlighted for a moment.
// Each batch gets a sequence number and its own expiry tick.
type highlights[K comparable] struct {
	rows map[K]int // row → sequence number of the batch that marked it
	seq  int       // last batch number handed out
}

// mark highlights keys and returns the tick that ends it on screen s.
func (h *highlights[K]) mark(s screen, keys ...K) tea.Cmd {
	if len(keys) == 0 {
		return nil
	}
	if h.rows == nil {
		h.rows = map[K]int{}
	}
	h.seq++
	seq := h.seq
	for _, k := range keys {
		h.rows[k] = seq
	}
	return tea.Tick(highlightDuration, func(time.Time) tea.Msg { return highlightDoneMsg{screen: s, seq: seq} })
}

// expire ends the highlight of batch seq (rows marked again later stay).
func (h *highlights[K]) expire(seq int) {
	for k, v := range h.rows {
		if v == seq {
			delete(h.rows, k)
		}
	}
}

// on reports whether key is highlighted.
func (h *highlights[K]) on(key K) bool {
	_, ok := h.rows[key]
	return ok
}

// reset drops every highlight.
func (h *highlights[K]) reset() { h.rows = nil }
