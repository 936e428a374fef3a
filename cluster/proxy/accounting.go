package proxy

import (
	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// The loop's side of the memory budget (budget.go): every send to a client
// or a server, every answer held and every op's end goes through here.

// clientKey is the key of a client's account: its routing identity, one
// per connection, as ZeroMQ's queues are.
func clientKey(identity []byte) string { return string(identity) }

// newListOwner is the key of a client's new-list bucket: the install's
// CURVE key (the connection's User-Id), so that the cap follows a client
// across its connections; the routing identity without CURVE.
func newListOwner(a *account, identity []byte) string {
	if a.user != "" {
		return "key:" + a.user
	}
	return "id:" + clientKey(identity)
}

// reply sends m to a client without blocking and counts it in the
// client's window. A client whose queue is full loses the reply (it
// retries); one ZeroMQ no longer knows is gone, and its queue with it.
func (l *loop) reply(identity []byte, m protocol.Message) {
	a := l.mem.client(clientKey(identity))
	_, err := l.sock.client.SendMessageDontwait(identity, m.Frames())
	switch {
	case err == nil:
		l.mem.sent(a, msgBytes(m))
	case zmq.AsErrno(err) == zmq.EHOSTUNREACH:
		l.mem.gone(a)
	default:
		l.mem.dropped++
	}
}

// heardFrom records a message from a client and returns its account.
func (l *loop) heardFrom(identity []byte) *account {
	a := l.mem.client(clientKey(identity))
	a.heard = l.now
	return a
}

// probeClients sends a Heartbeat to each client silent for forgetAfter,
// at most once per forgetAfter, and forgets those ZeroMQ no longer knows
// (budget.go, "Forgetting a client"). A client silent with nothing counted
// is forgotten at once.
func (l *loop) probeClients() {
	hb := protocol.NewHeartbeat(l.ring.view.Epoch)
	for _, a := range l.mem.clients {
		if l.now.Sub(a.heard) < l.mem.forgetAfter || l.now.Sub(a.probed) < l.mem.forgetAfter || a.ops > 0 {
			continue
		}
		if a.bytes() == 0 {
			l.mem.forgetIfIdle(a)
			continue
		}
		a.probed = l.now
		l.reply([]byte(a.key), hb)
	}
}

// sendFor sends m to a registered server for account a, and counts it as
// queued toward the server until a reply shows the server received it.
func (l *loop) sendFor(pr *peer, m protocol.Message, a *account) error {
	if l.cfg.Batch && batchable(m.Type) {
		l.gather(pr, m, a) // counted when the outbox goes (outbox.go)
		return nil
	}
	if err := l.send(pr, m); err != nil {
		return err
	}
	l.queued(pr, m.RequestID, msgBytes(m), a)
	return nil
}

// queued counts request reqID of n bytes, now in pr's queue, against a.
func (l *loop) queued(pr *peer, reqID uint64, n int64, a *account) {
	if reqID != 0 {
		l.mem.queue(a, n)
		pr.queue.push(reqID, n, a, l.unqueue)
	}
}

// unqueue releases a request known to have left a server's queue.
func (l *loop) unqueue(q queuedRequest) {
	l.mem.queue(q.acct, -q.bytes)
	l.mem.forgetIfIdle(q.acct)
}

// receivedBy records a reply from the server to request reqID: it and
// every request sent to it before have left its queue.
func (l *loop) receivedBy(pr *peer, reqID uint64) { pr.queue.received(reqID, l.unqueue) }

// connectionGone releases what was queued toward a server's connection,
// which has closed (the server said hello again, or came back on another
// connection, or was forgotten): ZeroMQ drops a closed connection's queue.
func (l *loop) connectionGone(pr *peer) { pr.queue.clear(l.unqueue) }

// reserve holds an op's expected bytes from its admission.
func (l *loop) reserve(o *op, n int64) {
	o.acct.ops++
	o.reserved = n
	l.mem.hold(o.acct, n)
}

// charge counts n bytes of an answer the op keeps: held only as far as
// they pass its reservation, and only if that fits; false if they do not
// (the caller drops the answer).
func (l *loop) charge(o *op, n int64) bool {
	extra := max(o.reserved, o.kept+n) - max(o.reserved, o.kept)
	if ok, _ := l.mem.fits(o.acct, extra); !ok {
		l.mem.dropped++
		return false
	}
	o.kept += n
	l.mem.hold(o.acct, extra)
	return true
}

// settle releases what an op held, at its end, and lets go of its bodies
// (the deadline queue may keep the op itself a while).
func (l *loop) settle(o *op) {
	if o.acct == nil || o.settled {
		return
	}
	o.settled = true
	l.mem.hold(o.acct, -max(o.reserved, o.kept))
	o.acct.ops--
	l.mem.forgetIfIdle(o.acct)
	o.body, o.answers = nil, nil
}

// aeAnswer decides whether the anti-entropy coordinator may keep a
// FetchReply's list: it holds it, and its share of the merge, until the
// round ends. One that does not fit is replaced by an Error, which the
// coordinator counts as that owner's failure. kept is what was held.
func (l *loop) aeAnswer(m protocol.Message) (out protocol.Message, kept int64) {
	if m.Type != protocol.TypeFetchReply || len(m.Body) == 0 {
		return m, 0
	}
	if _, isOp := l.ops.calls[m.RequestID]; isOp {
		return m, 0
	}
	n := 2 * msgBytes(m) // the answer, and at most as much again for the merge
	if ok, why := l.mem.fits(&l.mem.ae, n); !ok {
		l.mem.dropped++
		refusal := l.mem.refusal(m.RequestID, why)
		refusal.ListID = m.ListID
		return refusal, 0
	}
	l.mem.hold(&l.mem.ae, n)
	return m, n
}

// aeSettle releases what anti-entropy held once no round is in flight.
func (l *loop) aeSettle() {
	if !l.ae.Busy() && l.mem.ae.held != 0 {
		l.mem.hold(&l.mem.ae, -l.mem.ae.held)
	}
}

// budgetSweep runs the budget's periodic work: probing silent clients and
// dropping the new-list buckets that are full again.
func (l *loop) budgetSweep() {
	if l.now.Before(l.budgetAt) {
		return
	}
	l.budgetAt = l.now.Add(l.mem.forgetAfter / 4)
	l.probeClients()
	l.newLists.sweep(l.now)
}
