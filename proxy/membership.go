package proxy

import (
	"context"

	"shoplist/hashring"
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

// View is one decided ring membership. Ring is immutable; Epoch grows by one
// with every change, so two views with the same epoch are the same ring.
type View struct {
	Ring  *hashring.Ring
	Epoch uint64
}

// Has reports whether id is a member of the view's ring.
func (v View) Has(id string) bool {
	for _, s := range v.Ring.Servers() {
		if s == id {
			return true
		}
	}
	return false
}
