package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
)

// statusView renders the status bar: connection, sync activity, pending
// changes on the left, the proxy address on the right.
func statusView(st syncer.Status, opts Options, joining int, w int) string {
	var left []string
	switch {
	case opts.NoProxy:
		left = append(left, styles.barWarn.Render(" ○ offline: no proxy known (client --proxy ENDPOINT#KEY)"))
	case opts.Offline:
		left = append(left, styles.barWarn.Render(" ○ offline mode"))
	case st.Conn == syncer.Online:
		left = append(left, styles.barGood.Render(" ● online"))
	case st.Conn == syncer.Connecting:
		left = append(left, styles.barWarn.Render(" ◌ connecting"))
	default:
		left = append(left, styles.barBad.Render(" ○ offline"))
	}
	if st.Syncing && st.Conn == syncer.Online {
		left = append(left, styles.bar.Render("⟳ syncing"))
	}
	if joining > 0 {
		left = append(left, styles.bar.Render("⟳ joining"))
	}
	switch {
	case st.Pending == 1:
		left = append(left, styles.barWarn.Render("1 list pending"))
	case st.Pending > 1:
		left = append(left, styles.barWarn.Render(fmt.Sprintf("%d lists pending", st.Pending)))
	case st.Conn == syncer.Online:
		left = append(left, styles.bar.Render("all synced"))
	default:
		left = append(left, styles.bar.Render("nothing pending"))
	}
	l := strings.Join(left, styles.bar.Render("  "))

	proxy := st.Proxy
	if proxy == "" {
		proxy = opts.Proxy
	}
	proxy, _, _ = strings.Cut(proxy, "#") // the key the engine pins, too long to show
	r := ""
	if proxy != "" && !opts.Offline {
		r = "proxy " + proxy + " "
	}
	gap := w - lipgloss.Width(l) - lipgloss.Width(r)
	if gap < 2 {
		r = ansi.Truncate(r, max(w-lipgloss.Width(l)-2, 0), "…")
		gap = max(w-lipgloss.Width(l)-lipgloss.Width(r), 0)
	}
	return clip(l+styles.bar.Render(strings.Repeat(" ", gap))+styles.barID.Render(r), w)
}

// badge is a list's sync state on the lists screen.
func badge(e replica.Entry, st syncer.Status, offlineMode bool) string {
	switch {
	case e.Pending:
		return styles.warn.Render("● pending")
	case offlineMode || st.Conn != syncer.Online:
		return styles.subtle.Render("○ offline")
	}
	return styles.good.Render("✓ synced")
}

// badgeWidth is the cells a badge takes.
const badgeWidth = 9

// ago says how long ago t was, coarsely.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return "never"
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Format("Jan 2")
}

// friendly turns an error from the store or the engine into one line a
// person can act on; the sentinel's package prefixes are dropped.
func friendly(err error) string {
	switch {
	case errors.Is(err, errMinQuantity):
		return errMinQuantity.Error()
	case errors.Is(err, replica.ErrNotFound):
		return "that list is no longer on this device"
	case errors.Is(err, replica.ErrPending):
		return "not forgotten: it has new changes that are not synced yet (press d again to see them counted)"
	case errors.Is(err, replica.ErrCorrupt):
		return "the list file is damaged: " + err.Error()
	case errors.Is(err, crdt.ErrOverBuy), errors.Is(err, crdt.ErrInvalidName),
		errors.Is(err, crdt.ErrInvalidQuantity), errors.Is(err, crdt.ErrTooLarge),
		errors.Is(err, crdt.ErrNotFound):
		s := err.Error()
		if i := strings.LastIndex(s, "crdt: "); i >= 0 {
			s = s[i+len("crdt: "):]
		}
		return s
	}
	return err.Error()
}
