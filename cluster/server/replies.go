package server

import (
	"sync"

	"shoplist/protocol"
)

// reply is a worker's answer on its way to the socket loop, with the link
// and connection number of the request it answers.
type reply struct {
	link int    // index of the proxy link the request came on
	gen  uint64 // that link's connection number when it came
	msg  protocol.Message
	cost int64 // what it holds of the memory budget until sent or dropped
}

// replyQueue carries the workers' replies to the socket loop without a
// socket per worker: workers append to a slice under a mutex, and only the
// first reply after the loop last emptied the queue rings the doorbell. So
// under load one wake-up of the loop carries many replies, and a reply costs
// a mutex and an append instead of a cgo send plus a cgo receive.
type replyQueue struct {
	mu       sync.Mutex
	queued   []reply
	handoffs []handoffReq // Handoffs queued by the handoff goroutine
	pending  bool         // the doorbell was rung since the loop last emptied the queue

	// ring asks the doorbell to wake the loop (doorbell.Doorbell.Ring: it
	// never blocks, and rings that come while one is waiting merge).
	ring func()
}

// newReplyQueue returns an empty queue that wakes the loop with ring.
func newReplyQueue(ring func()) *replyQueue {
	return &replyQueue{ring: ring}
}

// putAll queues rs for the loop and rings the doorbell unless a ring is
// already on its way. The queue copies rs; the caller may reuse it.
func (q *replyQueue) putAll(rs []reply) {
	if len(rs) == 0 {
		return
	}
	q.mu.Lock()
	q.queued = append(q.queued, rs...)
	ring := !q.pending
	q.pending = true
	q.mu.Unlock()
	if ring {
		q.ring()
	}
}

// putHandoff queues a Handoff for the loop to send, ringing as putAll does.
func (q *replyQueue) putHandoff(h handoffReq) {
	q.mu.Lock()
	q.handoffs = append(q.handoffs, h)
	ring := !q.pending
	q.pending = true
	q.mu.Unlock()
	if ring {
		q.ring()
	}
}

// take returns the queued replies and Handoffs and empties the queue; the
// next put rings again. done is the slice the previous take returned,
// cleared by the caller and reused, so a steady flow of replies allocates
// nothing here.
func (q *replyQueue) take(done []reply) ([]reply, []handoffReq) {
	q.mu.Lock()
	out, handoffs := q.queued, q.handoffs
	q.queued, q.handoffs = done[:0], nil
	q.pending = false
	q.mu.Unlock()
	return out, handoffs
}
