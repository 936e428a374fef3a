package tui

import (
	"cmp"
	"slices"
	"strings"

	"shoplist/crdt"
)

// Uncategorised names the group of items without a category.
const Uncategorised = "uncategorised"

// categoryKey is what groups items: categories that differ only in case
// or spacing are one aisle.
func categoryKey(c string) string { return strings.ToLower(strings.Join(strings.Fields(c), " ")) }

// InShoppingOrder sorts items as the list screen and show print them: by
// category (in alphabetical order, the uncategorised last), and in each
// category the items still to buy first, then the bought ones, each by
// name. The order is stable: it depends on the items only.
func InShoppingOrder(items []crdt.ItemView) []crdt.ItemView {
	slices.SortStableFunc(items, func(a, b crdt.ItemView) int {
		ca, cb := categoryKey(a.Category), categoryKey(b.Category)
		switch {
		case ca != cb && ca == "":
			return 1
		case ca != cb && cb == "":
			return -1
		case ca != cb:
			return strings.Compare(ca, cb)
		case a.Acquired != b.Acquired:
			if a.Acquired {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return items
}

// Group is one category's items, in shopping order.
type Group struct {
	Category string // as first displayed; "" for the uncategorised
	Items    []crdt.ItemView
}

// Groups splits items in shopping order into their categories.
func Groups(items []crdt.ItemView) []Group {
	var out []Group
	for _, it := range InShoppingOrder(items) {
		if n := len(out); n > 0 && categoryKey(out[n-1].Category) == categoryKey(it.Category) {
			out[n-1].Items = append(out[n-1].Items, it)
			continue
		}
		out = append(out, Group{Category: strings.TrimSpace(it.Category), Items: []crdt.ItemView{it}})
	}
	return out
}
