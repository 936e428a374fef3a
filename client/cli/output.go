package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"shoplist/client/replica"
	"shoplist/crdt"
	"shoplist/tui"
)

func (e *env) cmdLists(args []string) error {
	if err := arity("lists", args, 0, 0, ""); err != nil {
		return err
	}
	all, err := e.store.All()
	if err != nil {
		fmt.Fprintf(e.stderr, "client: warning: %v\n", err)
	}
	if e.flags["json"] {
		out := make([]jsonLists, 0, len(all))
		for _, en := range all {
			items := en.List.Items()
			out = append(out, jsonLists{ID: en.List.ID().String(), Name: en.List.Name(), Items: len(items),
				Remaining: remaining(items), Pending: en.Pending, LastSync: lastSync(en), jsonDeletion: deletionOf(en.List)})
		}
		return writeJSON(e.stdout, out)
	}
	for _, en := range all {
		items := en.List.Items()
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%d remaining\t%s%s\n",
			en.List.ID(), en.List.Name(), plural(len(items), "item"), remaining(items), syncState(en, time.Now()), e.deletedNote(en.List, "\t"))
	}
	return nil
}

// plural says "1 item", "2 items".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// remaining counts the items not yet fully bought.
func remaining(items []crdt.ItemView) int {
	n := 0
	for _, it := range items {
		if !it.Acquired {
			n++
		}
	}
	return n
}

// syncState is the sync column of lists: "pending" while local changes are
// unpushed, else "synced" with when, or "never synced".
func syncState(en replica.Entry, now time.Time) string {
	switch {
	case en.Pending:
		return "pending"
	case en.LastSync.IsZero():
		return "never synced"
	}
	return "synced " + Ago(now.Sub(en.LastSync))
}

// Ago says how long ago in a few characters: "just now", "5s ago", "3m ago",
// "2h ago", "4d ago".
func Ago(d time.Duration) string {
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// jsonLists is one entry of lists --json's array.
type jsonLists struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Items     int    `json:"items"`     // present items
	Remaining int    `json:"remaining"` // items not fully bought
	Pending   bool   `json:"pending"`   // local changes not yet pushed
	LastSync  string `json:"last_sync"` // RFC 3339, "" if never synced
	jsonDeletion
}

// jsonList is show --json's output.
type jsonList struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Pending  bool       `json:"pending"`
	LastSync string     `json:"last_sync"`
	Items    []jsonItem `json:"items"` // in shopping order: by category, to buy first
	jsonDeletion
}

// jsonItem is one item of show --json.
type jsonItem struct {
	Name      string `json:"name"`
	Category  string `json:"category"` // "" if uncategorised
	Note      string `json:"note"`     // "" if none
	Wanted    int64  `json:"wanted"`
	Bought    int64  `json:"bought"`
	Remaining int64  `json:"remaining"`
	Acquired  bool   `json:"acquired"`
	Author    string `json:"author"` // who made the item's latest edit; "" if unknown
}

// deletedNote says who deleted l after sep, or "" if it is not deleted.
func (e *env) deletedNote(l *crdt.List, sep string) string {
	if s := tui.DeletedBy(l.Deletion(), e.store.ReplicaID()); s != "" {
		return sep + s
	}
	return ""
}

// lastSync is an entry's last sync time for JSON: RFC 3339, or "".
func lastSync(en replica.Entry) string {
	if en.LastSync.IsZero() {
		return ""
	}
	return en.LastSync.UTC().Format(time.RFC3339)
}

func (e *env) cmdShow(args []string) error {
	if err := arity("show", args, 1, 1, "LIST [--json]"); err != nil {
		return err
	}
	id, err := e.store.Resolve(args[0])
	if err != nil {
		return describe(err, "")
	}
	if !e.opts.offline {
		// Show what the cluster has, if it answers quickly; else the local copy.
		ctx, cancel := context.WithTimeout(e.ctx, editSync)
		if err := e.syncLists(ctx, id); err != nil {
			fmt.Fprintln(e.stderr, "offline: showing the local copy")
		}
		cancel()
	}
	en, err := e.store.Get(id)
	if err != nil {
		return describe(err, "")
	}
	items := tui.InShoppingOrder(en.List.Items())
	if e.flags["json"] {
		out := jsonList{ID: en.List.ID().String(), Name: en.List.Name(), Pending: en.Pending, LastSync: lastSync(en),
			Items: make([]jsonItem, 0, len(items)), jsonDeletion: deletionOf(en.List)}
		for _, it := range items {
			out.Items = append(out.Items, jsonItem{Name: it.Name, Category: it.Category, Note: it.Note,
				Wanted: it.Wanted, Bought: it.Bought, Remaining: it.Remaining, Acquired: it.Acquired, Author: it.By()})
		}
		return writeJSON(e.stdout, out)
	}
	writeText(e.stdout, en, items, e.deletedNote(en.List, "  — "))
	return nil
}

// writeText prints a list for people: its items by category, names padded
// to the widest in terminal cells (wide CJK and emoji count two).
func writeText(w io.Writer, en replica.Entry, items []crdt.ItemView, deleted string) {
	fmt.Fprintf(w, "%s  (%s, %s)%s\n", en.List.Name(), en.List.ID(), syncState(en, time.Now()), deleted)
	if len(items) == 0 {
		fmt.Fprintln(w, "  (no items)")
		return
	}
	width := 4
	for _, it := range items {
		width = max(width, ansi.StringWidth(it.Name))
	}
	groups := tui.Groups(items)
	for _, g := range groups {
		if len(groups) > 1 || g.Category != "" {
			name := g.Category
			if name == "" {
				name = tui.Uncategorised
			}
			fmt.Fprintf(w, "%s\n", name)
		}
		for _, it := range g.Items {
			box := "[ ]"
			if it.Acquired {
				box = "[x]"
			}
			pad := strings.Repeat(" ", width-ansi.StringWidth(it.Name))
			line := fmt.Sprintf("  %s %s%s  %d wanted, %d bought, %d remaining", box, it.Name, pad, it.Wanted, it.Bought, it.Remaining)
			if it.Note != "" {
				line += "  — " + it.Note
			}
			fmt.Fprintln(w, line)
		}
	}
}
