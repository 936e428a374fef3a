package replica

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// PushToken names the unpushed parts a delta from Unpushed carried, with
// the edit number of each, for Pushed.
type PushToken struct {
	parts map[string]uint64
}

// Create makes a new list named name, with a random (v4) ID. It is
// pending until pushed.
func (s *Store) Create(name string) (Entry, error) {
	var e Entry
	err := s.update(func() (bool, error) {
		l, err := crdt.New(s.clock, name)
		if err != nil {
			return false, fmt.Errorf("replica: new list: %w", err)
		}
		r := &record{list: l, seq: 1, dirty: map[string]uint64{"": 1}}
		if err := s.save(r); err != nil {
			return false, err
		}
		e = r.entry()
		return true, nil
	})
	return e, err
}

// Edit applies fn to list id and saves the result durably before it
// returns. fn gets the current state from disk and the replica's clock,
// already moved past every stamp in that state. If fn fails nothing is
// saved and its error is returned, wrapped. Edit returns the new entry and
// the keys of the parts fn changed ("" = the name), now unpushed.
func (s *Store) Edit(id uuid.UUID, fn func(l *crdt.List, c *crdt.Clock) error) (Entry, []string, error) {
	var (
		e       Entry
		changed []string
	)
	err := s.update(func() (bool, error) {
		r, err := s.load(id)
		if err != nil {
			return false, err
		}
		s.clock.Observe(r.list.MaxStamp())
		before := partsOf(r.list)
		if err := fn(r.list, s.clock); err != nil {
			return false, fmt.Errorf("replica: editing list %s: %w", id, err)
		}
		changed = diffParts(before, partsOf(r.list))
		if len(changed) == 0 {
			e = r.entry()
			return false, nil
		}
		r.seq++
		for _, k := range changed {
			r.dirty[k] = r.seq
		}
		if err := s.save(r); err != nil {
			return false, err
		}
		e = r.entry()
		return true, nil
	})
	return e, changed, err
}

// Merge joins a remote state of a list (a pull reply or a live update) into
// the local copy and saves it durably. It never marks anything unpushed and
// never loses a local edit: merging is a join. It returns the keys of the
// parts whose state changed ("" = the name). A list that is not local is
// ErrNotFound unless add is set, which stores it (joining the list).
func (s *Store) Merge(remote *crdt.List, add bool) (Entry, []string, error) {
	e, changed, _, err := s.merge(remote, add, false)
	return e, changed, err
}

// MergeComplete is Merge for a state known to hold everything of the list
// the cluster still counts (a pull reply): it first drops the local edits
// the cluster forgot while this replica was away for longer than the
// horizon (crdt.List.MergeComplete), and returns the names of the items
// that changed by it, for the user to be told. Dropped edits are no longer
// unpushed.
func (s *Store) MergeComplete(remote *crdt.List, add bool) (e Entry, changed, dropped []string, err error) {
	return s.merge(remote, add, true)
}

func (s *Store) merge(remote *crdt.List, add, complete bool) (Entry, []string, []string, error) {
	var (
		e                Entry
		changed, dropped []string
	)
	id := remote.ID()
	err := s.update(func() (bool, error) {
		r, err := s.load(id)
		isNew := false
		if errors.Is(err, ErrNotFound) && add {
			r, err, isNew = &record{list: crdt.Empty(id), dirty: map[string]uint64{}}, nil, true
		}
		if err != nil {
			return false, err
		}
		s.clock.Observe(remote.MaxStamp())
		before := partsOf(r.list)
		if complete {
			dropped, err = r.list.MergeComplete(remote)
		} else {
			err = r.list.Merge(remote)
		}
		if err != nil {
			return false, fmt.Errorf("replica: merging list %s: %w", id, err)
		}
		changed = diffParts(before, partsOf(r.list))
		if len(changed) == 0 && !isNew {
			e = r.entry()
			return false, nil
		}
		if err := s.save(r); err != nil {
			return false, err
		}
		e = r.entry()
		return true, nil
	})
	return e, changed, dropped, err
}

// Unpushed returns a delta holding every part of list id edited locally
// and not yet acknowledged, and the token to hand to Pushed once the
// cluster has acknowledged it. ok is false when nothing is pending.
func (s *Store) Unpushed(id uuid.UUID) (delta *crdt.List, tok PushToken, ok bool, err error) {
	err = s.update(func() (bool, error) {
		r, err := s.load(id)
		if err != nil || len(r.dirty) == 0 {
			return false, err
		}
		delta, tok, ok = crdt.Empty(id), PushToken{parts: maps.Clone(r.dirty)}, true
		parts := r.list.Split()
		if _, dirty := r.dirty[""]; dirty {
			if err := delta.Merge(parts[0]); err != nil {
				return false, err
			}
		}
		for i, k := range r.list.ItemKeys() {
			if _, dirty := r.dirty[k]; dirty {
				if err := delta.Merge(parts[i+1]); err != nil {
					return false, err
				}
			}
		}
		return false, nil
	})
	return delta, tok, ok, err
}

// Pushed records that the delta tok came with was acknowledged by the
// cluster: the parts in it that were not edited again since are no longer
// unpushed, and the list's last sync time is now.
func (s *Store) Pushed(id uuid.UUID, tok PushToken) error {
	return s.update(func() (bool, error) {
		r, err := s.load(id)
		if err != nil {
			return false, err
		}
		for k, seq := range tok.parts {
			if r.dirty[k] == seq {
				delete(r.dirty, k)
			}
		}
		r.lastSync = s.now().UnixMilli()
		return true, s.save(r)
	})
}

// Synced records a successful pull of list id: its last sync time is now.
func (s *Store) Synced(id uuid.UUID) error {
	return s.update(func() (bool, error) {
		r, err := s.load(id)
		if err != nil {
			return false, err
		}
		r.lastSync = s.now().UnixMilli()
		return true, s.save(r)
	})
}

// Forget deletes the local copy of list id; the shared list is untouched.
// A list with unpushed changes is kept, with ErrPending, unless force is
// set: the check and the deletion are one step under the lock, so an edit
// made after the caller last looked is never deleted unseen.
func (s *Store) Forget(id uuid.UUID, force bool) error {
	return s.update(func() (bool, error) {
		if !force {
			r, err := s.load(id)
			if err != nil {
				return false, err
			}
			if len(r.dirty) > 0 {
				return false, fmt.Errorf("%w: %s has %d unpushed parts", ErrPending, id, len(r.dirty))
			}
		}
		if err := s.remove(id); err != nil {
			return false, err
		}
		return true, nil
	})
}

// partsOf returns the encoding of each part of l by key ("" = the name).
func partsOf(l *crdt.List) map[string][]byte {
	parts := l.Split()
	m := make(map[string][]byte, len(parts))
	m[""] = parts[0].Encode()
	for i, k := range l.ItemKeys() {
		m[k] = parts[i+1].Encode()
	}
	return m
}

// diffParts returns the keys whose encoding differs between before and
// after, in key order ("" first).
func diffParts(before, after map[string][]byte) []string {
	var keys []string
	for k, b := range after {
		if a, ok := before[k]; !ok || !bytes.Equal(a, b) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
