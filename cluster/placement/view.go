package placement

import (
	"cmp"
	"slices"

	"shoplist/hashring"
	"shoplist/protocol"
)

// View is one decided ring membership. Ring is immutable; Epoch grows by one
// with every change, so two views with the same epoch are the same ring.
type View struct {
	// Ring places lists on the active members only.
	Ring  *hashring.Ring
	Epoch uint64
	// Leaving holds the members handing their lists over, sorted: still
	// members (welcomed, announced to) but not placed on Ring.
	Leaving []string
	// Proxies holds the client endpoints of every proxy of the group, for
	// clients' Welcome; nil when unknown (a single proxy).
	Proxies []string
	// Admitted holds the storage servers admitted to the backend, by
	// their CURVE keys; it changes without the epoch (admission is not
	// placement), and a new pointer means a new set. Nil admits nobody.
	Admitted *Admission
}

// Has reports whether id is a member of the view: active on its ring or
// leaving.
func (v View) Has(id string) bool {
	return v.Active(id) || slices.Contains(v.Leaving, id)
}

// Active reports whether id is placed on the view's ring.
func (v View) Active(id string) bool {
	return v.Ring != nil && v.Ring.Has(id)
}

// IsLeaving reports whether id is a leaving member of the view.
func (v View) IsLeaving(id string) bool { return slices.Contains(v.Leaving, id) && !v.Active(id) }

// EpochBody returns the view as servers adopt it: the ring's servers as
// MemberUp and the leaving ones as MemberLeaving, sorted by ID, with n
// replicas per list and the ring's virtual nodes per server. It does not
// check the body's limits: encoding it does.
func (v View) EpochBody(n int) protocol.EpochBody {
	var members []protocol.Member
	var vnodes int
	if v.Ring != nil {
		vnodes = v.Ring.VNodes()
		for _, id := range v.Ring.Servers() {
			members = append(members, protocol.Member{ID: id, State: protocol.MemberUp})
		}
	}
	for _, id := range v.Leaving {
		if !v.Active(id) {
			members = append(members, protocol.Member{ID: id, State: protocol.MemberLeaving})
		}
	}
	slices.SortFunc(members, func(a, b protocol.Member) int { return cmp.Compare(a.ID, b.ID) })
	members = slices.CompactFunc(members, func(a, b protocol.Member) bool { return a.ID == b.ID })
	return protocol.EpochBody{Epoch: v.Epoch, N: uint8(n), VNodes: uint16(vnodes), Members: members}
}
