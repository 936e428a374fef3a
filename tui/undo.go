package tui

import (
	"fmt"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// maxUndo is how many edits of each list u can undo.
const maxUndo = 50

// undoStep is what undoes one edit: the parts it changed as they were
// before it. Undoing is a new edit that sets those parts back, so it syncs
// like any other and keeps what others did to the other parts meanwhile.
type undoStep struct {
	what    string                    // the edit, for the notice: "removed “milk”"
	name    *string                   // the list's name before, if the edit renamed it
	deleted *bool                     // whether the list was deleted before, if the edit deleted or restored it
	items   map[string]*crdt.ItemView // key → the item before; nil if it was not there
}

// stepOf returns the step that undoes an edit of before into after that
// changed keys ("" is the header: the name and the deletion); nil if it
// changed nothing.
func stepOf(what string, before, after *crdt.List, keys []string) *undoStep {
	if before == nil || len(keys) == 0 {
		return nil
	}
	st := &undoStep{what: what, items: map[string]*crdt.ItemView{}}
	for _, k := range keys {
		if k == "" {
			n, d := before.Name(), before.Deleted()
			st.name = &n
			if d != after.Deleted() {
				st.deleted = &d
			}
			continue
		}
		if v, ok := before.Lookup(k); ok {
			st.items[k] = &v
		} else {
			st.items[k] = nil
		}
	}
	return st
}

// restore is the edit that undoes the step.
func (st *undoStep) restore(l *crdt.List, c *crdt.Clock) error {
	if st.deleted != nil && !*st.deleted && l.Deleted() {
		if err := l.Restore(c); err != nil { // first: a deleted list takes no edit
			return err
		}
	}
	if st.deleted != nil && *st.deleted && !l.Deleted() {
		return l.Delete(c) // nothing else changed with a restore
	}
	if st.name != nil && l.Name() != *st.name {
		if err := l.Rename(c, *st.name); err != nil {
			return err
		}
	}
	for k, was := range st.items {
		if err := restoreItem(l, c, k, was); err != nil {
			return err
		}
	}
	return nil
}

// restoreItem sets item key back to was: removed if it was not there,
// else added back and given its quantities, category and note.
func restoreItem(l *crdt.List, c *crdt.Clock, key string, was *crdt.ItemView) error {
	cur, ok := l.Lookup(key)
	if was == nil {
		if ok {
			return l.Remove(c, key)
		}
		return nil
	}
	if !ok {
		if err := l.Add(c, was.Name, was.Wanted); err != nil {
			return err
		}
		cur, _ = l.Lookup(key)
	}
	if cur.Bought > was.Bought {
		if err := l.Unbuy(c, key, cur.Bought-was.Bought); err != nil {
			return err
		}
		cur, _ = l.Lookup(key)
	}
	if cur.Wanted != was.Wanted && was.Wanted >= cur.Bought {
		if err := l.SetWanted(c, key, was.Wanted); err != nil {
			return err
		}
		cur, _ = l.Lookup(key)
	}
	if n := min(was.Bought-cur.Bought, cur.Remaining); n > 0 {
		if err := l.Buy(c, key, n); err != nil {
			return err
		}
	}
	if cur.Category != was.Category {
		if err := l.SetCategory(c, key, was.Category); err != nil {
			return err
		}
	}
	if cur.Note != was.Note {
		if err := l.SetNote(c, key, was.Note); err != nil {
			return err
		}
	}
	return nil
}

// undoStacks holds, for each list, the steps that undo its last edits made
// in this UI, the last one last.
type undoStacks map[uuid.UUID][]*undoStep

// push records st for list id, keeping the last maxUndo.
func (u undoStacks) push(id uuid.UUID, st *undoStep) {
	s := append(u[id], st)
	if len(s) > maxUndo {
		s = s[len(s)-maxUndo:]
	}
	u[id] = s
}

// pop takes the last step of list id; nil if there is none.
func (u undoStacks) pop(id uuid.UUID) *undoStep {
	s := u[id]
	if len(s) == 0 {
		return nil
	}
	st := s[len(s)-1]
	u[id] = s[:len(s)-1]
	return st
}

// undone is the notice after undoing st.
func undone(st *undoStep) string {
	if st.what == "" {
		return "undone"
	}
	return fmt.Sprintf("undone: %s", st.what)
}
