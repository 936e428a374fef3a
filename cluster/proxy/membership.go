package proxy

import (
	"cmp"
	"context"
	"slices"

	"shoplist/hashring"
	"shoplist/protocol"
)

// Membership decides which servers form the ring. The proxy calls Join and
// Remove from goroutines of its own, never from its socket loop, so an
// implementation may block on a decision (the consensus-backed one does);
// View must be cheap and must not block.
type Membership interface {
	// View returns the current ring and the epoch that names it.
	View() View
	// Join adds the server to the ring, or does nothing if it is a member;
	// it returns once the change is decided.
	Join(ctx context.Context, id string) error
	// Remove takes the server out of the ring; ErrNotMember if it is not in.
	Remove(ctx context.Context, id string) error
	// Changes returns a channel that receives a value after View changes.
	// Sends do not block: one pending value stands for any number of
	// changes, so a receiver re-reads View.
	Changes() <-chan struct{}
}

// Leader is implemented by a Membership shared by several proxies, of which
// one leads: only the leader removes dead or drained servers and runs
// anti-entropy. A Membership without it is a single proxy's, which always
// leads.
type Leader interface {
	// IsLeader reports whether this proxy currently leads. It must be
	// cheap and must not block.
	IsLeader() bool
}

// Leaver is implemented by a Membership that can decommission a server
// gracefully: Leave marks it leaving (it stays a member, owns nothing and
// hands its lists to their owners), and the leader removes it once it has
// drained. Leave returns ErrNotMember if the server is not a member. A
// Membership without it decommissions by Remove.
type Leaver interface {
	Leave(ctx context.Context, id string) error
}

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

// isLeader reports whether this proxy leads its group: true when the
// membership is not shared (no Leader interface).
func (l *loop) isLeader() bool {
	if ld, ok := l.members.(Leader); ok {
		return ld.IsLeader()
	}
	return true
}
