package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"shoplist/client/replica"
	"shoplist/crdt"
)

func (e *env) cmdLists(args []string) error {
	if err := arity("lists", args, 0, 0, "no arguments"); err != nil {
		return err
	}
	all, err := e.store.All()
	if err != nil {
		fmt.Fprintf(e.stderr, "client: warning: %v\n", err)
	}
	for _, en := range all {
		items := en.List.Items()
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%d remaining\t%s\n",
			en.List.ID(), en.List.Name(), plural(len(items), "item"), remaining(items), syncState(en, time.Now()))
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

// jsonList is show --json's output.
type jsonList struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Items []jsonItem `json:"items"`
}

// jsonItem is one item of show --json.
type jsonItem struct {
	Name      string `json:"name"`
	Wanted    int64  `json:"wanted"`
	Bought    int64  `json:"bought"`
	Remaining int64  `json:"remaining"`
	Acquired  bool   `json:"acquired"`
}

func (e *env) cmdShow(args []string) error {
	asJSON := false
	var rest []string
	for _, a := range args {
		if a == "--json" || a == "-json" {
			asJSON = true
		} else {
			rest = append(rest, a)
		}
	}
	if err := arity("show", rest, 1, 1, "LIST [--json]"); err != nil {
		return err
	}
	id, err := e.store.Resolve(rest[0])
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
	items := ordered(en.List.Items())
	if asJSON {
		return writeJSON(e.stdout, en.List, items)
	}
	writeText(e.stdout, en, items)
	return nil
}

// ordered puts the items still to buy first, then the acquired ones, each
// by name.
func ordered(items []crdt.ItemView) []crdt.ItemView {
	slices.SortStableFunc(items, func(a, b crdt.ItemView) int {
		if a.Acquired != b.Acquired {
			if a.Acquired {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Key, b.Key)
	})
	return items
}

func writeJSON(w io.Writer, l *crdt.List, items []crdt.ItemView) error {
	out := jsonList{ID: l.ID().String(), Name: l.Name(), Items: make([]jsonItem, 0, len(items))}
	for _, it := range items {
		out.Items = append(out.Items, jsonItem{Name: it.Name, Wanted: it.Wanted, Bought: it.Bought, Remaining: it.Remaining, Acquired: it.Acquired})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeText(w io.Writer, en replica.Entry, items []crdt.ItemView) {
	fmt.Fprintf(w, "%s  (%s, %s)\n", en.List.Name(), en.List.ID(), syncState(en, time.Now()))
	if len(items) == 0 {
		fmt.Fprintln(w, "  (no items)")
		return
	}
	width := 4
	for _, it := range items {
		width = max(width, len([]rune(it.Name)))
	}
	for _, it := range items {
		box := "[ ]"
		if it.Acquired {
			box = "[x]"
		}
		fmt.Fprintf(w, "  %s %-*s  %d wanted, %d bought, %d remaining\n", box, width, it.Name, it.Wanted, it.Bought, it.Remaining)
	}
}
