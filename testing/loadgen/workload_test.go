package loadgen

import (
	"slices"
	"testing"
)

func TestLayoutDefaults(t *testing.T) {
	// 64 clients in households of 4, 80 lists of which 16 shared: each
	// client has one private list and its household's one shared list.
	y := newLayout(64, 4, 80, 0.2)
	users := make([][]int, 80)
	for i := range 64 {
		mine := y.listsOf(i)
		if len(mine) != 2 || mine[0] != i || mine[1] != 64+i/4 {
			t.Fatalf("client %d works on %v, want [%d %d]", i, mine, i, 64+i/4)
		}
		for _, j := range mine {
			users[j] = append(users[j], i)
		}
	}
	for j, u := range users {
		if y.creatorOf(j) != u[0] {
			t.Errorf("list %d created by %d, not by its first user %d", j, y.creatorOf(j), u[0])
		}
	}
}

func TestLayoutGivesEveryClientAList(t *testing.T) {
	for _, c := range []struct {
		clients, group, lists int
		shared                float64
	}{{1, 4, 2, 0.2}, {10, 4, 3, 0}, {10, 3, 3, 1}, {5, 1, 100, 0.5}} {
		y := newLayout(c.clients, c.group, c.lists, c.shared)
		used := map[int]bool{}
		for i := range c.clients {
			mine := y.listsOf(i)
			if len(mine) == 0 || slices.ContainsFunc(mine, func(j int) bool { return j < 0 || j >= c.lists }) {
				t.Fatalf("%+v: client %d works on %v", c, i, mine)
			}
			for _, j := range mine {
				used[j] = true
			}
		}
		if len(used) != c.lists {
			t.Errorf("%+v: only %d of %d lists used", c, len(used), c.lists)
		}
	}
}
