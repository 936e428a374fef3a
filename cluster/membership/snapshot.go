package membership

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"shoplist/protocol"
)

// SnapshotVersion is the version of the snapshot encoding this code writes.
// It restores that one, version 2 (the same state without the admitted
// servers) and version 1 (nor the proxies table).
const SnapshotVersion = 3

// maxSnapshotSize bounds a snapshot read back: the largest state Apply can
// produce (MaxMembers members and MaxRemoved removed IDs of
// MaxServerIDLen bytes, MaxProxies proxies, MaxAdmitted admitted servers)
// encodes to well under it.
const maxSnapshotSize = 8 << 20

// maxImportSize bounds an import command: a snapshot and its header.
const maxImportSize = maxSnapshotSize + 16

// encodeState returns s's one encoding:
//
//	[version uint, epoch uint, n uint, vnodes uint, [[id str, state uint]...], [removed str...],
//	 [[proxy id str, raft str, admin str, client str]...], [[admitted id str, key str]...]]
//
// members, removed IDs, proxies and admitted servers sorted by ID, so equal
// states encode to equal bytes. Version 2 had no admitted element, version
// 1 no proxies either.
func encodeState(s *state) []byte {
	w := newWriter()
	w.array(8)
	w.uint(SnapshotVersion)
	w.uint(s.epoch)
	w.uint(uint64(s.n))
	w.uint(uint64(s.vnodes))
	members := s.sortedMembers()
	w.array(len(members))
	for _, m := range members {
		w.array(2)
		w.str(m.ID)
		w.uint(uint64(m.State))
	}
	removed := s.sortedRemoved()
	w.array(len(removed))
	for _, id := range removed {
		w.str(id)
	}
	proxies := s.sortedProxies()
	w.array(len(proxies))
	for _, p := range proxies {
		w.array(4)
		writeProxyInfo(w, p)
	}
	admitted := s.sortedAdmitted()
	w.array(len(admitted))
	for _, a := range admitted {
		w.array(2)
		w.str(a.ID)
		w.str(a.Key)
	}
	return w.bytes()
}

// decodeState decodes and checks a snapshot: the limits Apply keeps, known
// states, valid IDs, proxy records and keys, no duplicates, no server both
// member and removed, and no key admitted twice or for a removed server.
func decodeState(p []byte) (*state, error) {
	if len(p) > maxSnapshotSize {
		return nil, fmt.Errorf("%w: snapshot is over %d bytes", ErrMalformed, maxSnapshotSize)
	}
	r := newReader(p)
	s := readStateFrom(r)
	if err := r.end("snapshot"); err != nil {
		return nil, err
	}
	return s, nil
}

// readStateFrom reads an encoded state from r and checks it as decodeState
// says; the first error is left in r.err.
func readStateFrom(r *reader) *state {
	// The version comes before the arity is checked, so a later version
	// with more elements is ErrUnknownVersion, not malformed.
	n := r.array("snapshot", 16)
	v := r.uint("snapshot version", 1<<32)
	switch {
	case r.err != nil:
		return newState()
	case v < 1 || v > SnapshotVersion:
		r.err = fmt.Errorf("%w: snapshot version %d, want 1 to %d", ErrUnknownVersion, v, SnapshotVersion)
		return newState()
	case n != int(5+v):
		r.fail("snapshot version %d: %d elements, want %d", v, n, 5+v)
		return newState()
	}
	s := newState()
	s.epoch = r.uint("epoch", 1<<63)
	s.n = int(r.uint("n", protocol.MaxReplication))
	s.vnodes = int(r.uint("vnodes", protocol.MaxVNodes))
	if r.err == nil && (s.n == 0) != (s.vnodes == 0) {
		r.fail("snapshot: n = %d, vnodes = %d; both or neither must be set", s.n, s.vnodes)
	}
	id := func(what string) string {
		v := r.str(what, protocol.MaxServerIDLen)
		if r.err == nil {
			if err := protocol.CheckServerID(v); err != nil {
				r.fail("snapshot %s: %v", what, err)
			}
		}
		return v
	}
	members := r.array("members", MaxMembers)
	for i := 0; i < members && r.err == nil; i++ {
		if n := r.array("member", 2); r.err == nil && n != 2 {
			r.fail("member: %d elements, want 2", n)
		}
		m, st := id("member ID"), State(r.uint("member state", 255))
		switch {
		case r.err != nil:
		case st != Active && st != Leaving:
			r.fail("member %s: unknown state %d", m, st)
		case s.members[m] != 0:
			r.fail("member %s listed twice", m)
		}
		s.members[m] = st
	}
	removed := r.array("removed", MaxRemoved)
	for i := 0; i < removed && r.err == nil; i++ {
		m := id("removed ID")
		switch {
		case r.err != nil:
		case s.removed[m]:
			r.fail("removed %s listed twice", m)
		case s.members[m] != 0:
			r.fail("%s is both a member and removed", m)
		}
		s.removed[m] = true
	}
	if v >= 2 {
		proxies := r.array("proxies", MaxProxies)
		for i := 0; i < proxies && r.err == nil; i++ {
			if n := r.array("proxy", 4); r.err == nil && n != 4 {
				r.fail("proxy: %d elements, want 4", n)
			}
			p := readProxyInfo(r)
			if _, dup := s.proxies[p.ID]; r.err == nil && dup {
				r.fail("proxy %s listed twice", p.ID)
			}
			s.proxies[p.ID] = p
		}
	}
	if v >= 3 {
		admitted := r.array("admitted", MaxAdmitted)
		for i := 0; i < admitted && r.err == nil; i++ {
			if n := r.array("admitted server", 2); r.err == nil && n != 2 {
				r.fail("admitted server: %d elements, want 2", n)
			}
			a := readAdmitted(r)
			if _, dup := s.admitted[a.ID]; r.err == nil && dup {
				r.fail("admitted server %s listed twice", a.ID)
			}
			s.admitted[a.ID] = a.Key
		}
		if r.err == nil {
			if err := checkAdmitted(s.admitted, s.removed); err != nil {
				r.fail("snapshot: %v", err)
			}
		}
	}
	if r.err == nil && !s.configured() && (len(s.members) > 0 || s.epoch > 0) {
		r.fail("snapshot: members or epoch %d without a configuration", s.epoch)
	}
	return s
}

// readState reads a snapshot of at most maxSnapshotSize bytes.
func readState(src io.Reader) (*state, error) {
	p, err := io.ReadAll(io.LimitReader(src, maxSnapshotSize+1))
	if err != nil {
		return nil, fmt.Errorf("membership: reading snapshot: %w", err)
	}
	return decodeState(p)
}

// fsmSnapshot is a copy of the state taken by fsm.Snapshot; raft persists
// it from another goroutine while Apply goes on.
type fsmSnapshot struct {
	st *state
}

// Persist writes the snapshot to sink and closes it, or cancels it on error.
func (f *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(encodeState(f.st)); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("membership: writing snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("membership: closing snapshot: %w", err)
	}
	return nil
}

// Release does nothing: the snapshot holds only its own copy.
func (f *fsmSnapshot) Release() {}
