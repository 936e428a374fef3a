package tui

import (
	"github.com/google/uuid"

	"shoplist/crdt"
)

// Who did what: an item highlighted because someone else changed it says
// what they did and who they are ("bought by Bob"), from the item's author
// register (crdt/author.go), for as long as the highlight lasts.

// authorLabels returns, for each of the changed item keys whose latest
// edit in after was signed by a replica other than self, what that edit
// did (from before to after) and by whom.
func authorLabels(before, after *crdt.List, keys []string, self uuid.UUID) map[string]string {
	labels := map[string]string{}
	for _, k := range keys {
		v, ok := after.Lookup(k)
		if !ok || v.By() == "" || v.AuthorAt.Replica == self {
			continue
		}
		labels[k] = didWhat(before, v) + " by " + v.By()
	}
	return labels
}

// didWhat names the change from the item as it was in before to v.
func didWhat(before *crdt.List, v crdt.ItemView) string {
	old, ok := before.Lookup(v.Key)
	switch {
	case !ok:
		return "added"
	case v.Bought > old.Bought:
		return "bought"
	case v.Bought < old.Bought:
		return "unchecked"
	}
	return "changed"
}
