package proxy

import "time"

// deadlineQueue holds ops in deadline order. Every op of a kind gets the
// same timeout when it starts, so arrival order is deadline order and a
// FIFO suffices. Ops that end early stay queued, and are skipped.
type deadlineQueue struct {
	ops  []*op
	head int
}

func (q *deadlineQueue) push(o *op) { q.ops = append(q.ops, o) }

// front returns the earliest op still open, or nil.
func (q *deadlineQueue) front() *op {
	for q.head < len(q.ops) && q.ops[q.head].state == opEnded {
		q.ops[q.head] = nil
		q.head++
	}
	if q.head == len(q.ops) {
		q.ops, q.head = q.ops[:0], 0
		return nil
	}
	if q.head > 1024 && q.head > len(q.ops)/2 {
		n := copy(q.ops, q.ops[q.head:])
		clear(q.ops[n:])
		q.ops, q.head = q.ops[:n], 0
	}
	return q.ops[q.head]
}

// pop removes the op front returned.
func (q *deadlineQueue) pop() {
	q.ops[q.head] = nil
	q.head++
}

// next returns the earliest deadline of an open op.
func (q *deadlineQueue) next() (time.Time, bool) {
	if o := q.front(); o != nil {
		return o.deadline, true
	}
	return time.Time{}, false
}
