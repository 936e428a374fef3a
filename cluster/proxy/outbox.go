package proxy

import (
	"fmt"

	"shoplist/protocol"
)

// Outboxes: with Config.Batch, the Stores and Fetches the loop makes for a
// server in one turn go to it as one Batch message when the turn ends
// (flushOutboxes), rather than one message each. At 64 clients a turn
// holds several requests for every server, so the server's loop, its I/O
// thread and CurveZMQ handle one message where they handled several.
//
// A request is in its op's calls from the moment it is gathered, as if
// sent; it counts as queued toward the server (queues.go) once the
// outbox went. If the outbox cannot go, each request in it fails as a
// send that failed would have: its call is resolved with the reason.

// outbox is the requests gathered for one server this turn.
type outbox struct {
	batch protocol.Batcher
	reqs  []gathered // batch's requests, in order
}

// gathered is a request in an outbox, with what counting it needs.
type gathered struct {
	id   uint64
	size int64
	acct *account
}

// batchable reports whether messages of type t wait in an outbox.
func batchable(t protocol.Type) bool {
	switch t {
	case protocol.TypeStore, protocol.TypeStoreExisting, protocol.TypeFetch:
		return true
	}
	return false
}

// gather adds m, a request for pr made for account a, to pr's outbox.
func (l *loop) gather(pr *peer, m protocol.Message, a *account) {
	if !pr.out.batch.Fits(m) {
		l.flushTo(pr)
	}
	if pr.out.batch.Len() == 0 {
		l.outboxes = append(l.outboxes, pr)
	}
	pr.out.batch.Add(m)
	pr.out.reqs = append(pr.out.reqs, gathered{id: m.RequestID, size: msgBytes(m), acct: a})
}

// flushTo sends what pr's outbox holds, as one message.
func (l *loop) flushTo(pr *peer) {
	m, ok := pr.out.batch.Take(l.ring.view.Epoch)
	if !ok {
		return
	}
	reqs := pr.out.reqs
	pr.out.reqs = nil
	if err := l.sendNow(pr, m); err != nil {
		for _, g := range reqs {
			if c, ok := l.ops.calls[g.id]; ok && c.server == pr.id {
				l.resolve(g.id, c, fmt.Sprintf("send failed (%v)", err), 0)
			}
		}
		return
	}
	for _, g := range reqs {
		l.queued(pr, g.id, g.size, g.acct)
	}
}

// flushOutboxes sends every outbox, at the end of a turn. A failed send
// may route a request to another server (a fallback), whose outbox then
// goes too; each server is tried once per request, so this ends.
func (l *loop) flushOutboxes() {
	for len(l.outboxes) > 0 {
		prs := l.outboxes
		l.outboxes = nil
		for _, pr := range prs {
			l.flushTo(pr)
		}
	}
}
