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
	switch c := connection(st, opts); {
	case opts.NoProxy:
		left = append(left, styles.barWarn.Render(" "+c.label+": no proxy known (client --proxy ENDPOINT#KEY)"))
	case opts.Offline:
		left = append(left, styles.barWarn.Render(" "+c.label+" mode"))
	default:
		left = append(left, c.bar.Render(" "+c.label))
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

// connState is the connection as every part of the screen names it: the
// status bar and the lists' badges read it from here, so they agree.
type connState struct {
	label string         // "● online", "◌ connecting", "○ offline"
	bar   lipgloss.Style // its style in the status bar
	badge lipgloss.Style // its style as a list's badge
}

// connection returns the connection state of st under opts.
func connection(st syncer.Status, opts Options) connState {
	switch {
	case opts.Offline || opts.NoProxy:
		return connState{"○ offline", styles.barWarn, styles.subtle}
	case st.Conn == syncer.Online:
		return connState{"● online", styles.barGood, styles.good}
	case st.Conn == syncer.Connecting:
		return connState{"◌ connecting", styles.barWarn, styles.subtle}
	}
	return connState{"○ offline", styles.barBad, styles.subtle}
}

// badge is a list's sync state: pending while it has unpushed changes,
// synced while online, else the connection state of the status bar.
func badge(e replica.Entry, st syncer.Status, opts Options) string {
	c := connection(st, opts)
	switch {
	case e.Pending:
		return styles.warn.Render("● pending")
	case st.Conn == syncer.Online && !opts.Offline && !opts.NoProxy:
		return styles.good.Render("✓ synced")
	}
	return c.badge.Render(c.label)
}

// badgeWidth is the cells a badge takes.
const badgeWidth = 12

// syncTrouble says in words what the engine's last error means for the
// user: unreachable (it retries, edits are kept) or a refusal (its reason).
func syncTrouble(st syncer.Status) string {
	if st.Conn != syncer.Online {
		return "cannot reach the cluster — retrying; your edits are saved"
	}
	return "sync: " + strings.TrimPrefix(st.LastErr, "syncer: ") + " — retrying; your edits are saved"
}

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
	case errors.Is(err, crdt.ErrDeleted):
		s := err.Error()
		return s[strings.LastIndex(s, crdt.ErrDeleted.Error())+len(crdt.ErrDeleted.Error())+2:] + ": D restores it for everyone"
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
