package tui

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"shoplist/crdt"

	"github.com/charmbracelet/x/ansi"
)

// Column widths of the list screen.
const (
	checkWidth = 4 // "[✓] "
	qtyWidth   = 7 // " WANTED"
)

// view renders the screen in w×h cells, one string per line: the list's
// sync line, the search, and the items grouped by category.
func (m *listModel) view(w, h int) []string {
	if !m.has {
		return []string{styles.empty.Render("loading…")}
	}
	info := badge(m.entry, m.sh.status, m.sh.opts) + styles.subtle.Render(
		"  last sync "+ago(m.entry.LastSync, time.Now())+"  ·  ID "+m.id.String()[:8]+"…  (s shares)")
	if m.hl.on("") {
		info = styles.freshBar.Render("▌") + styles.fresh.Render("renamed") + "  " + info
	}
	if d := m.sh.deletedBy(m.entry.List); d != "" {
		info = styles.errNotice.Render(d) + styles.subtle.Render(": read only · D restores · d on the lists screen forgets")
	}
	lines := []string{clip(info, w)}
	if m.searching {
		m.search.Width = max(w-4, 1)
		lines = append(lines, m.search.View())
	} else if q := m.search.Value(); q != "" {
		lines = append(lines, clip(styles.selected.Render("/ ")+q+styles.subtle.Render("   (esc clears)"), w))
	}
	switch {
	case len(m.all) == 0:
		return append(lines, styles.empty.Render("No items yet.\n\nPress a to add one, e.g. “milk 2”."))
	case len(m.items) == 0:
		return append(lines, styles.empty.Render("No item matches “"+m.search.Value()+"”."))
	}
	nameW := max(w-gutterWidth-checkWidth-3*qtyWidth, 4)
	lines = append(lines, styles.header.Render(fit("", gutterWidth+checkWidth)+fit("ITEM", nameW)+
		fitRight("WANTED", qtyWidth)+fitRight("BOUGHT", qtyWidth)+fitRight("LEFT", qtyWidth)))
	rows := m.rows()
	at := slices.IndexFunc(rows, func(r listRow) bool { return r.item == m.cursor })
	n := rowsFor(h-len(lines), len(rows))
	m.offset = scroll(m.offset, at, n, len(rows))
	if at > 0 && rows[at-1].item < 0 && m.offset == at {
		m.offset-- // show the category above the cursor's item
	}
	for i := m.offset; i < len(rows) && i < m.offset+n; i++ {
		if r := rows[i]; r.item < 0 {
			lines = append(lines, styles.category.Render(fit("", gutterWidth)+fit(r.header, w-gutterWidth)))
		} else {
			lines = append(lines, m.row(m.items[r.item], r.item == m.cursor, nameW))
		}
	}
	return append(lines, more(m.offset, n, len(rows))...)
}

// listRow is a line of the list: an item, or a category's heading.
type listRow struct {
	item   int    // index into items; -1 for a heading
	header string // the heading: the category, and how many are left in it
}

// rows lays the shown items out by category: a heading above each group,
// when any item has a category.
func (m *listModel) rows() []listRow {
	groups := Groups(slices.Clone(m.items))
	if len(groups) == 1 && groups[0].Category == "" {
		out := make([]listRow, len(m.items))
		for i := range out {
			out[i] = listRow{item: i}
		}
		return out
	}
	var out []listRow
	i := 0
	for _, g := range groups {
		name, left := g.Category, 0
		if name == "" {
			name = Uncategorised
		}
		for _, it := range g.Items {
			if !it.Acquired {
				left++
			}
		}
		out = append(out, listRow{item: -1, header: fmt.Sprintf("%s · %d of %d left", name, left, len(g.Items))})
		for range g.Items {
			out = append(out, listRow{item: i})
			i++
		}
	}
	return out
}

// row renders one item.
func (m *listModel) row(it crdt.ItemView, sel bool, nameW int) string {
	cursor, check := "  ", "[ ] "
	if sel {
		cursor = "› "
	}
	if it.Acquired {
		check = "[✓] "
	}
	name := fit(it.Name, nameW)
	extra := it.Note
	if by := m.by[it.Key]; by != "" && m.hl.on(it.Key) {
		extra = by // while highlighted, who changed it rather than the note
	}
	if room := nameW - ansi.StringWidth(it.Name) - 3; extra != "" && room >= 4 {
		name = it.Name + " · " + fit(extra, room)
	}
	nums := fitRight(strconv.FormatInt(it.Wanted, 10), qtyWidth) + fitRight(strconv.FormatInt(it.Bought, 10), qtyWidth) +
		fitRight(strconv.FormatInt(it.Remaining, 10), qtyWidth)
	if m.hl.on(it.Key) {
		st := styles.fresh.Bold(sel)
		return styles.freshBar.Render("▌") + st.Render(cursor+check+name+nums)
	}
	switch {
	case sel && it.Acquired:
		name = styles.selected.Inherit(styles.checked).Render(name)
	case sel:
		name = styles.selected.Render(name)
	case it.Acquired:
		name = styles.checked.Render(name)
	}
	if sel {
		cursor = styles.selected.Render(cursor)
	}
	return " " + cursor + check + name + nums
}
