package proxy

// What ZeroMQ queues toward a peer, bounded from what the loop has sent
// (see budget.go for why each is an upper bound).

// clientWindowLen is how many of the latest messages sent to a client may
// still be in ZeroMQ: its queue's clientHWM, and the one its engine is
// writing.
const clientWindowLen = clientHWM + 1

// clientWindow is the sizes of the last clientWindowLen messages sent to a
// client, and their sum.
type clientWindow struct {
	sizes [clientWindowLen]int64
	next  int // where the next size goes, over the oldest
	sum   int64
}

// push records a message of n bytes sent and returns the size of the one
// it pushes out of the window (0 while the window is not full).
func (w *clientWindow) push(n int64) (out int64) {
	out = w.sizes[w.next]
	w.sizes[w.next] = n
	w.next = (w.next + 1) % clientWindowLen
	w.sum += n - out
	return out
}

// serverQueue is the requests sent to one server that no reply has yet
// shown it received, oldest first: a reply to a request proves that
// request, and every one sent before it on the connection, has left the
// proxy's queue, as ZeroMQ delivers a connection's messages in order.
// Notifications (heartbeats, announcements) are not recorded: a few dozen
// bytes each, at most one an interval.
type serverQueue struct {
	sent  []queuedRequest
	head  int               // first entry still queued
	index map[uint64]uint64 // request ID → sequence number, of the entries still queued
	seq   uint64            // last sequence number given
}

// queuedRequest is one request sent and not yet known to be received.
type queuedRequest struct {
	seq, reqID uint64
	bytes      int64
	acct       *account
}

// serverQueueMax bounds a server's queue at what ZeroMQ can hold toward
// it: its high-water mark and the message being written. Older entries
// cannot be queued any more and are let go.
const serverQueueMax = backendHWM + 1

// push records request reqID of n bytes sent for acct; entries past
// serverQueueMax are let go, each passed to done.
func (q *serverQueue) push(reqID uint64, n int64, acct *account, done func(queuedRequest)) {
	if q.index == nil {
		q.index = map[uint64]uint64{}
	}
	q.seq++
	q.sent = append(q.sent, queuedRequest{seq: q.seq, reqID: reqID, bytes: n, acct: acct})
	q.index[reqID] = q.seq
	if q.len() > serverQueueMax {
		q.popThrough(q.sent[q.head].seq, done)
	}
}

// received passes to done the entries a reply to reqID shows were
// received: that request and every one before it. None if reqID is not
// queued.
func (q *serverQueue) received(reqID uint64, done func(queuedRequest)) {
	if seq, ok := q.index[reqID]; ok {
		q.popThrough(seq, done)
	}
}

// clear passes every entry to done: the connection is gone, and its queue
// with it.
func (q *serverQueue) clear(done func(queuedRequest)) { q.popThrough(q.seq, done) }

// len is the number of entries still queued.
func (q *serverQueue) len() int { return len(q.sent) - q.head }

// popThrough removes the entries up to sequence number seq, passing each
// to done.
func (q *serverQueue) popThrough(seq uint64, done func(queuedRequest)) {
	for q.head < len(q.sent) && q.sent[q.head].seq <= seq {
		e := q.sent[q.head]
		q.sent[q.head] = queuedRequest{}
		delete(q.index, e.reqID)
		q.head++
		done(e)
	}
	switch {
	case q.head == len(q.sent): // empty: start the slice over
		q.sent, q.head = q.sent[:0], 0
	case q.head > 1024 && q.head > len(q.sent)/2:
		n := copy(q.sent, q.sent[q.head:])
		clear(q.sent[n:])
		q.sent, q.head = q.sent[:n], 0
	}
}
