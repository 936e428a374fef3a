package server

import (
	"context"
	"fmt"
	"sync"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// reply is a worker's answer on its way to the socket loop, with the link
// and connection number of the request it answers.
type reply struct {
	link int    // index of the proxy link the request came on
	gen  uint64 // that link's connection number when it came
	msg  protocol.Message
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

	// ring asks the doorbell goroutine to wake the loop; its buffer of one
	// coalesces rings that come while one is waiting.
	ring chan struct{}
}

// newReplyQueue returns an empty queue.
func newReplyQueue() *replyQueue {
	return &replyQueue{ring: make(chan struct{}, 1)}
}

// put queues r for the loop and rings the doorbell unless a ring is already
// on its way.
func (q *replyQueue) put(r reply) {
	q.mu.Lock()
	q.queued = append(q.queued, r)
	ring := !q.pending
	q.pending = true
	q.mu.Unlock()
	if ring {
		q.nudge()
	}
}

// putHandoff queues a Handoff for the loop to send, ringing as put does.
func (q *replyQueue) putHandoff(h handoffReq) {
	q.mu.Lock()
	q.handoffs = append(q.handoffs, h)
	ring := !q.pending
	q.pending = true
	q.mu.Unlock()
	if ring {
		q.nudge()
	}
}

// nudge rings the doorbell without blocking; a ring already waiting covers
// this one.
func (q *replyQueue) nudge() {
	select {
	case q.ring <- struct{}{}:
	default:
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

// doorbell is the doorbell goroutine. It owns an inproc PUSH socket
// connected to the loop's PULL and sends it an empty frame for each ring of
// the reply queue, and once when ctx is done, so that Close does not wait
// for a poll timeout. It keeps ringing (the loop forwards the workers' last
// replies while it drains) until the loop has returned.
func (s *Server) doorbell(ctx context.Context, ready chan<- error) {
	sock, err := zmq.NewSocket(zmq.PUSH)
	if err == nil {
		if err = sock.SetLinger(0); err == nil {
			err = sock.Connect(s.replyAddr)
		}
		if err != nil {
			sock.Close()
		}
	}
	if err != nil {
		ready <- fmt.Errorf("server: doorbell socket: %w", err)
		return
	}
	ready <- nil
	defer sock.Close()
	stop := ctx.Done()
	for {
		select {
		case <-s.replies.ring:
		case <-stop:
			stop = nil // ring once, to get the loop out of its poll
		case <-s.loopDone:
			return
		}
		// DONTWAIT: at most a few rings are ever outstanding, far under
		// the high-water mark; and a lost ring only delays replies until
		// the loop's next turn, which always empties the queue.
		if _, err := sock.SendBytes(nil, zmq.DONTWAIT); err != nil {
			s.log.warn("doorbell", "server: cannot ring the socket loop", "err", err)
		}
	}
}
