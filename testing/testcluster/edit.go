package testcluster

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"shoplist/crdt"
)

// RandomEdit makes one edit of l that its state allows, stamped by c, on
// the named item or (now and then) on the list's name, and returns its
// kind (one of EditKinds). who names the editor in the names it gives the
// list. An error is a local edit the list refused; nothing changed.
func RandomEdit(l *crdt.List, c *crdt.Clock, rng *rand.Rand, who, name string) (string, error) {
	if rng.IntN(50) == 0 {
		return "rename", l.Rename(c, fmt.Sprintf("renamed by %s, %d", who, rng.IntN(1000)))
	}
	v, ok := l.Lookup(name)
	if !ok {
		kind := "add"
		if slices.Contains(l.ItemKeys(), crdt.Normalize(name)) {
			kind = "re-add"
		}
		return kind, l.Add(c, name, 1+rng.Int64N(3))
	}
	type choice struct {
		kind   string
		weight int
		do     func() error
	}
	choices := []choice{
		{"+1", 15, func() error { return l.Add(c, name, 1) }},
		{"set", 10, func() error { return l.SetWanted(c, name, max(1, v.Bought)+rng.Int64N(4)) }},
		{"remove", 10, func() error { return l.Remove(c, name) }},
		{"category", 6, func() error { return l.SetCategory(c, name, categories[rng.IntN(len(categories))]) }},
		{"note", 6, func() error { return l.SetNote(c, name, notes[rng.IntN(len(notes))]) }},
	}
	if v.Wanted-1 >= max(1, v.Bought) {
		choices = append(choices, choice{"-1", 10, func() error { return l.Decrease(c, name, 1) }})
	}
	if v.Remaining > 0 {
		choices = append(choices, choice{"buy", 20, func() error { return l.Buy(c, name, 1+rng.Int64N(min(v.Remaining, 2))) }})
	}
	if v.Bought > 0 {
		choices = append(choices, choice{"unbuy", 8, func() error { return l.Unbuy(c, name, 1) }})
	}
	total := 0
	for _, ch := range choices {
		total += ch.weight
	}
	n := rng.IntN(total)
	for _, ch := range choices {
		if n < ch.weight {
			return ch.kind, ch.do()
		}
		n -= ch.weight
	}
	panic("unreachable")
}

var (
	categories = []string{"produce", "dairy", "bakery", "frozen", ""}
	notes      = []string{"the organic one", "two packs", "large", ""}
)
