package loadgen

import (
	"fmt"
	"math"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// layout assigns the load lists to the simulated clients. Lists
// [0, private) are private: list j belongs to client j mod clients alone.
// Lists [private, lists) are shared: shared list k belongs to household
// k mod households, a household being group consecutive clients (clients
// 0–3, 4–7, … with group 4), and every member of it edits and reads it. A
// client works on its private lists and its household's shared lists,
// picking one uniformly for each operation; a client left with none (fewer
// lists than clients) works on list i mod lists, which it then shares.
type layout struct {
	clients, group, lists, private, households int
}

// newLayout splits lists into private and shared ones, a fraction shared
// of them (rounded) being shared.
func newLayout(clients, group, lists int, shared float64) layout {
	households := (clients + group - 1) / group
	nShared := min(lists, int(math.Round(float64(lists)*shared)))
	return layout{clients: clients, group: group, lists: lists, private: lists - nShared, households: households}
}

// listsOf returns the indexes of the lists client i works on.
func (y layout) listsOf(i int) []int {
	var out []int
	for j := i; j < y.private; j += y.clients {
		out = append(out, j)
	}
	for k := i / y.group; y.private+k < y.lists; k += y.households {
		out = append(out, y.private+k)
	}
	if len(out) == 0 {
		out = append(out, i%y.lists)
	}
	return out
}

// creatorOf returns the client that creates list j: its owner, or the
// first member of the household sharing it.
func (y layout) creatorOf(j int) int {
	if j < y.private {
		return j % y.clients
	}
	return ((j - y.private) % y.households) * y.group
}

// itemNames returns the display names of a list's k items and their
// normalised keys.
func itemNames(k int) (names, keys []string) {
	for i := range k {
		n := fmt.Sprintf("item %03d", i)
		names = append(names, n)
		keys = append(keys, crdt.Normalize(n))
	}
	return names, keys
}

// newList returns a fresh list stamped by c holding each named item with
// one wanted.
func newList(c *crdt.Clock, name string, items []string) (*crdt.List, error) {
	l, err := crdt.New(c, name)
	if err != nil {
		return nil, fmt.Errorf("loadgen: new list: %w", err)
	}
	for _, it := range items {
		if err := l.Add(c, it, 1); err != nil {
			return nil, fmt.Errorf("loadgen: add %q: %w", it, err)
		}
	}
	return l, nil
}

// newClocks returns one clock per simulated client, each with its own
// random replica ID.
func newClocks(n int) []*crdt.Clock {
	out := make([]*crdt.Clock, n)
	for i := range out {
		out[i] = crdt.NewClock(uuid.New())
	}
	return out
}
