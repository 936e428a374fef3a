package membership

import (
	"context"
	"fmt"
	"sync"
)

// Forwarder passes a change from a follower to the leader. Package admin
// implements it over the proxies' admin HTTP API: the leader's side hands
// the bytes to its Node's ApplyCommand and sends back the error, which the
// follower's side must return so that errors.Is still finds
// placement.ErrRemoved, placement.ErrNotMember, ErrNotLeader and ErrNoLeader (the
// last two make the Node retry once a leader is known; so does
// ErrUndecided, for a change that may be applied twice).
type Forwarder interface {
	// Forward applies the encoded command cmd on the node at leaderAddr
	// (its Raft address) and returns once it is committed or refused.
	Forward(ctx context.Context, leaderAddr string, cmd []byte) error
}

// InmemForwarder is a Forwarder for tests: it calls ApplyCommand on the
// Node registered at the leader's address, in the same process.
type InmemForwarder struct {
	// mu guards nodes.
	mu    sync.Mutex
	nodes map[string]*Node // by Raft address
}

// NewInmemForwarder returns an empty InmemForwarder.
func NewInmemForwarder() *InmemForwarder {
	return &InmemForwarder{nodes: map[string]*Node{}}
}

// Register makes n reachable at addr.
func (f *InmemForwarder) Register(addr string, n *Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[addr] = n
}

// Forward calls ApplyCommand on the node at leaderAddr; an unknown address
// is reported as ErrNoLeader, as a dead leader would be.
func (f *InmemForwarder) Forward(ctx context.Context, leaderAddr string, cmd []byte) error {
	f.mu.Lock()
	n := f.nodes[leaderAddr]
	f.mu.Unlock()
	if n == nil {
		return fmt.Errorf("%w: nothing at %s", ErrNoLeader, leaderAddr)
	}
	return n.ApplyCommand(ctx, cmd)
}
