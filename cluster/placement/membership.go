package placement

import "context"

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
