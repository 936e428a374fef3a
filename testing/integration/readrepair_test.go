package integration

import (
	"fmt"
	"slices"
	"testing"
)

// Read repair: a server restarted after missing some pushes comes
// back as the same ring member with its old data, and reading the list
// brings its replica up to date. In process, so that the test can watch the
// server's store while it runs.
func TestRestartedServerIsRepairedWhenItsListIsRead(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 5)
	c := h.client()
	list := pushNew(t, c, "repair me")
	var before, during []string
	for i := range 5 {
		before = append(before, fmt.Sprintf("before %d", i))
		during = append(during, fmt.Sprintf("during %d", i))
	}
	pushItems := func(items []string) {
		t.Helper()
		for _, item := range items {
			delta, err := list.add(item, 1)
			must(t, err)
			must(t, c.push(list.id(), delta))
		}
	}
	pushItems(before)
	victim := h.proxy.Owners(list.id())[0]
	i := h.index(victim)
	eventually(t, "the victim stores the first pushes", func() bool {
		l, err := h.server(victim).Store().Load(list.id())
		return err == nil && len(missingItems(l, before)) == 0
	})

	h.stop(i)
	h.waitMembers(nil, []string{victim})
	pushItems(during)
	s := h.start(i, "") // its directory knows its ID
	if s.ID() != victim {
		t.Fatalf("restarted server has ID %s, want %s", s.ID(), victim)
	}
	h.waitMembers([]string{victim}, nil)
	stale, err := s.Store().Load(list.id())
	must(t, err)
	if missing := missingItems(stale, before); len(missing) > 0 {
		t.Fatalf("restarted server lost %v", missing)
	}
	if missing := missingItems(stale, during); len(missing) == 0 {
		t.Fatal("the restarted server has the pushes it missed before anything read the list: nothing left for read repair to do")
	}

	got, err := c.pull(list.id())
	must(t, err)
	all := slices.Concat(before, during)
	if missing := missingItems(got, all); len(missing) > 0 {
		t.Fatalf("pull lacks acknowledged %v", missing)
	}
	eventually(t, "read repair brings the restarted replica up to date", func() bool {
		l, err := s.Store().Load(list.id())
		return err == nil && len(missingItems(l, all)) == 0
	})
}
