package membership

import (
	"fmt"
	"maps"
	"slices"

	"shoplist/cluster/placement"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// MaxAdmitted bounds the storage servers admitted at once. A removal
// revokes the removed server's key, so servers that come and go do not
// use it up.
const MaxAdmitted = 4096

// Admitted is a storage server admitted to the proxies' backend: its ID
// and the CURVE public key (Z85) it must connect with.
type Admitted struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// Check reports whether a may be recorded: a valid server ID and key.
func (a Admitted) Check() error {
	if err := protocol.CheckServerID(a.ID); err != nil {
		return fmt.Errorf("admitted server ID: %w", err)
	}
	if err := curvekey.CheckPublic(a.Key); err != nil {
		return fmt.Errorf("server %s: %w", a.ID, err)
	}
	return nil
}

// readAdmitted reads [id str, key str]'s two strings (the caller has read
// the array header) and checks them; the first error is left in r.err.
func readAdmitted(r *reader) Admitted {
	a := Admitted{ID: r.str("admitted server ID", protocol.MaxServerIDLen), Key: r.str("admitted key", curvekey.TextLen)}
	if r.err == nil {
		if err := a.Check(); err != nil {
			r.fail("%v", err)
		}
	}
	return a
}

// applyAdmit binds server a.ID to key a.Key, replacing the key it had (a
// new key for the same server). It reports whether the state changed. A
// removed server, a key bound to another server and a new server beyond
// MaxAdmitted are refused. It needs no configuration and leaves the ring
// and its epoch alone.
func (s *state) applyAdmit(a Admitted) (bool, error) {
	if err := a.Check(); err != nil { // decodeCommand checked it; a command built otherwise may not be
		return false, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	old, known := s.admitted[a.ID]
	switch {
	case known && old == a.Key:
		return false, nil
	case s.removed[a.ID]:
		return false, fmt.Errorf("%w: %s; a removed server cannot rejoin: admit a fresh server under a new ID", placement.ErrRemoved, a.ID)
	case !known && len(s.admitted) >= MaxAdmitted:
		return false, fmt.Errorf("%w: %d servers admitted, at most %d allowed", ErrFull, len(s.admitted), MaxAdmitted)
	}
	for id, key := range s.admitted {
		if key == a.Key {
			return false, fmt.Errorf("%w: the key of %s is admitted for %s; revoke it first", ErrKeyInUse, a.ID, id)
		}
	}
	s.admitted[a.ID] = a.Key
	return true, nil
}

// applyRevoke withdraws server id's admission; ErrNotAdmitted if it has
// none. Its connections are refused from then on.
func (s *state) applyRevoke(id string) (bool, error) {
	if _, ok := s.admitted[id]; !ok {
		return false, fmt.Errorf("%w: %s", ErrNotAdmitted, id)
	}
	delete(s.admitted, id)
	return true, nil
}

// sortedAdmitted returns the admitted servers sorted by ID.
func (s *state) sortedAdmitted() []Admitted {
	out := make([]Admitted, 0, len(s.admitted))
	for _, id := range slices.Sorted(maps.Keys(s.admitted)) {
		out = append(out, Admitted{ID: id, Key: s.admitted[id]})
	}
	return out
}

// mergeAdmitted returns the admissions of an imported state, seed, under
// those already made, ours: ours win over the seed's for the same server
// or key, and removed servers are left out.
func mergeAdmitted(seed, ours map[string]string, removed map[string]bool) map[string]string {
	out := maps.Clone(ours)
	taken := map[string]bool{}
	for _, key := range ours {
		taken[key] = true
	}
	for _, id := range slices.Sorted(maps.Keys(seed)) {
		if _, mine := out[id]; !mine && !taken[seed[id]] {
			out[id] = seed[id]
			taken[seed[id]] = true
		}
	}
	maps.DeleteFunc(out, func(id, _ string) bool { return removed[id] })
	return out
}

// checkAdmitted reports whether admitted breaks a rule applyAdmit keeps:
// no removed server, no key bound twice.
func checkAdmitted(admitted map[string]string, removed map[string]bool) error {
	keys := make(map[string]string, len(admitted))
	for _, id := range slices.Sorted(maps.Keys(admitted)) {
		key := admitted[id]
		if removed[id] {
			return fmt.Errorf("%s is admitted and removed", id)
		}
		if other, dup := keys[key]; dup {
			return fmt.Errorf("%s and %s are admitted with one key", other, id)
		}
		keys[key] = id
	}
	return nil
}
