package placement

import "errors"

// Sentinel errors of membership changes. Every Membership wraps them, so
// callers test with errors.Is whichever membership they talk to.
var (
	// ErrNotMember means a server named in a removal is not in the ring.
	ErrNotMember = errors.New("placement: not a ring member")
	// ErrRemoved means a server asked to join after it was removed: a
	// removed server stays out, so that a still-running one does not
	// rejoin on its next hello. It rejoins under a new ID (a fresh data
	// directory).
	ErrRemoved = errors.New("placement: server was removed from the ring")
)
