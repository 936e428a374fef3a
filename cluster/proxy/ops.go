package proxy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// opKind is what an op does.
type opKind uint8

const (
	opPush    opKind = iota + 1 // a client's write: Store on the owners, W acks
	opPull                      // a client's read: Fetch from the owners, R answers
	opRepair                    // read repair: Store the merged state on stale replicas
	opHandoff                   // a fallback's Handoff: Store on the owner it names, 1 ack
)

func (k opKind) String() string {
	return [...]string{opPush: "push", opPull: "pull", opRepair: "read repair", opHandoff: "handoff"}[k]
}

// op is one request in progress: the backend calls it made and what came
// back. It ends when every call has been answered or failed, or at its
// deadline; the client gets its answer as soon as the quorum is reached or
// becomes impossible, which may be earlier.
type op struct {
	kind     opKind
	identity []byte // the client's (handoff: the fallback server's) routing identity; nil for repairs
	reqID    uint64 // the client's (handoff: the fallback's) request ID
	list     uuid.UUID
	body     []byte // push: the state pushed; repair: the merged state
	deadline time.Time
	need     int // W or R (0 for repairs)
	replicas int // servers in the preference list

	calls    []uint64 // backend request IDs, answered or not
	pending  int      // calls not yet answered
	ok       int      // acknowledgements (push, repair) or answers (pull)
	answers  []answer // pull: the replicas' states
	failures []string // why servers did not count, for the error message
	codes    []protocol.ErrorCode
	replied  bool // the client has its answer (always true for repairs)
	closed   bool // ended: calls forgotten, queue entry dead

	holderOwns bool // handoff: the fallback is itself an owner of the list
}

// answer is one replica's reply to a Fetch; body is nil for "not found".
type answer struct {
	server   string
	body     []byte
	fallback bool // from a server standing in for a down owner
}

// call is one backend request in flight.
type call struct {
	op     *op
	server string
	forOwn string // the down owner the server stands in for, or ""
}

// label names a call's server in failure messages.
func (c call) label() string {
	if c.forOwn != "" {
		return c.server + " (for " + c.forOwn + ")"
	}
	return c.server
}

// target is a server a request goes to: an owner (forOwn "") or a fallback
// standing in for the down owner forOwn.
type target struct {
	pr     *peer
	forOwn string
}

// route picks the servers for a request on a list with preference list
// owners: every usable owner and, when sloppy, for each owner that is down
// or not connected the next usable server clockwise on the ring beyond the
// preference list that is not already a target (sloppy quorum). Owners left
// without a stand-in are recorded as failures.
func (l *loop) route(o *op, owners []string, sloppy bool) []target {
	o.replicas = len(owners)
	type absent struct{ id, why string }
	var targets []target
	var missing []absent
	for _, id := range owners {
		pr := l.servers[id]
		switch {
		case pr == nil || !pr.welcomed:
			missing = append(missing, absent{id, "not connected"})
		case pr.down:
			missing = append(missing, absent{id, "down"})
		default:
			targets = append(targets, target{pr: pr})
		}
	}
	var walk []string // the servers beyond the preference list, clockwise
	if sloppy && len(missing) > 0 {
		walk = l.view.Ring.Owners(o.list.String(), l.view.Ring.Len())[len(owners):]
	}
	for _, a := range missing {
		for len(walk) > 0 && !l.usable(walk[0]) {
			walk = walk[1:]
		}
		if len(walk) == 0 {
			why := a.id + ": " + a.why
			if sloppy {
				why += ", and no fallback server is up"
			}
			o.failures = append(o.failures, why)
			continue
		}
		targets = append(targets, target{pr: l.servers[walk[0]], forOwn: a.id})
		walk = walk[1:]
	}
	return targets
}

// usable reports whether requests may be routed to the server id.
func (l *loop) usable(id string) bool {
	pr := l.servers[id]
	return pr != nil && pr.usable()
}

// start sends each target the message build returns for it. The client is
// answered at once if the quorum is out of reach before anything is sent,
// so nothing is half-done.
func (l *loop) start(o *op, targets []target, build func(reqID uint64, t target) (protocol.Message, error)) {
	if len(targets) < o.need {
		l.finish(o)
		return
	}
	for _, t := range targets {
		l.nextID++
		c := call{op: o, server: t.pr.id, forOwn: t.forOwn}
		m, err := build(l.nextID, t)
		if err == nil {
			err = l.send(t.pr, m)
		}
		if err != nil {
			o.failures = append(o.failures, fmt.Sprintf("%s: send failed (%v)", c.label(), err))
			continue
		}
		l.calls[l.nextID] = c
		o.calls = append(o.calls, l.nextID)
		o.pending++
	}
	l.queue.push(o)
	l.check(o)
}

// resolve records the end of one call: a success when why is "", else a
// failure (with the server's error code, if it sent one).
func (l *loop) resolve(reqID uint64, c call, why string, code protocol.ErrorCode) {
	delete(l.calls, reqID)
	o := c.op
	o.pending--
	if why == "" {
		o.ok++
	} else {
		o.failures = append(o.failures, c.label()+": "+why)
		if code != 0 {
			o.codes = append(o.codes, code)
		}
	}
	l.check(o)
}

// onReply matches a server's reply to its call.
func (l *loop) onReply(pr *peer, m protocol.Message) {
	c, ok := l.calls[m.RequestID]
	if !ok || c.server != pr.id {
		return // late (the op has ended) or not ours: nothing waits for it
	}
	o := c.op
	switch {
	case m.Type == protocol.TypeError:
		eb, err := protocol.DecodeErrorBody(m.Body)
		if err != nil {
			l.resolve(m.RequestID, c, "unreadable error reply", 0)
			return
		}
		if eb.Code == protocol.CodeStaleEpoch {
			// The server has adopted a newer ring than the one the
			// request was routed under: it does not count, and this
			// proxy catches up through its membership.
			l.stats.staleEpoch++
			l.log.Debug("request refused: stale epoch", "server", pr.id, "proxy_epoch", l.view.Epoch, "server_epoch", m.Epoch)
			l.resolve(m.RequestID, c, "stale epoch ("+eb.Message+")", eb.Code)
			return
		}
		l.resolve(m.RequestID, c, eb.Code.String()+": "+eb.Message, eb.Code)
	case m.ListID != o.list:
		l.resolve(m.RequestID, c, fmt.Sprintf("answered for list %s", m.ListID), 0)
	case m.Type == protocol.TypeFetchReply && o.kind == opPull:
		o.answers = append(o.answers, answer{server: pr.id, body: m.Body, fallback: c.forOwn != ""})
		l.resolve(m.RequestID, c, "", 0)
	case m.Type == protocol.TypeStoreReply && o.kind != opPull:
		l.resolve(m.RequestID, c, "", 0)
	default:
		l.resolve(m.RequestID, c, fmt.Sprintf("answered a %v with %v", o.kind, m.Type), 0)
	}
}

// check answers the client once the quorum is reached or out of reach, and
// ends the op when nothing is pending.
func (l *loop) check(o *op) {
	if !o.replied {
		switch {
		case o.ok >= o.need:
			l.succeed(o)
		case o.ok+o.pending < o.need:
			l.reject(o)
		}
	}
	if o.pending == 0 {
		l.finish(o)
	}
}

// failCallsTo fails every call in flight to the server.
func (l *loop) failCallsTo(server, why string) {
	for id, c := range l.calls {
		if c.server == server {
			l.resolve(id, c, why, 0)
		}
	}
}

// expire ends the ops whose deadline has passed.
func (l *loop) expire() {
	for {
		o := l.queue.front()
		if o == nil || o.deadline.After(l.now) {
			return
		}
		l.queue.pop()
		wait := l.cfg.Timeout.String()
		for _, id := range o.calls {
			if c, ok := l.calls[id]; ok {
				l.resolve(id, c, "no answer within "+wait, 0)
			}
		}
		l.finish(o)
	}
}

// finish ends an op: the client is answered if it was not, its calls are
// forgotten, and a read repairs the replicas that were behind.
func (l *loop) finish(o *op) {
	if o.closed {
		return
	}
	if !o.replied {
		l.reject(o)
	}
	o.closed = true
	for _, id := range o.calls {
		delete(l.calls, id)
	}
	switch o.kind {
	case opPull:
		l.active--
		l.repair(o)
	case opPush:
		l.active--
		if l.writing[o.list]--; l.writing[o.list] <= 0 {
			delete(l.writing, o.list)
		}
	case opHandoff:
		l.active--
	case opRepair:
		if len(o.failures) > 0 {
			l.log.Debug("read repair incomplete", "list", o.list, "failures", o.failures)
		}
	}
}

// rejection returns the error a client gets when o cannot reach its
// quorum. When every server that failed refused the request for the same
// reason that is about the request itself (a bad list, a skewed clock),
// that reason is passed on; otherwise it is a quorum failure naming how
// many replicas were reached and why the others were not.
func (o *op) rejection() protocol.Message {
	if o.replicas == 0 {
		return protocol.NewError(o.reqID, protocol.CodeUnavailable, "no storage server has joined the ring yet")
	}
	if o.kind == opHandoff {
		code, ok := sameRefusal(o.codes)
		if !ok {
			code = protocol.CodeUnavailable
		}
		return protocol.NewError(o.reqID, code, fmt.Sprintf("handoff of list %s failed: %s; keep the hint and retry",
			o.list, strings.Join(o.failures, "; ")))
	}
	if code, ok := sameRefusal(o.codes); ok && o.ok == 0 && len(o.codes) == len(o.failures) {
		return protocol.NewError(o.reqID, code, fmt.Sprintf("%s of list %s refused by the replicas: %s", o.kind, o.list, o.failures[0]))
	}
	verb, need := "acknowledged", fmt.Sprintf("W=%d", o.need)
	if o.kind == opPull {
		verb, need = "answered", fmt.Sprintf("R=%d", o.need)
	}
	msg := fmt.Sprintf("%s of list %s failed: %d of %d replicas %s, need %s", o.kind, o.list, o.ok, o.replicas, verb, need)
	why := o.failures
	if o.pending > 0 {
		// The quorum was out of reach before every replica answered.
		why = append(slices.Clone(why), fmt.Sprintf("%d not answered yet", o.pending))
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return protocol.NewError(o.reqID, protocol.CodeQuorumFailed, msg)
}

// sameRefusal reports the code when codes are all the same code that
// describes the request rather than the replica's health.
func sameRefusal(codes []protocol.ErrorCode) (protocol.ErrorCode, bool) {
	if len(codes) == 0 {
		return 0, false
	}
	for _, c := range codes {
		if c != codes[0] {
			return 0, false
		}
	}
	switch codes[0] {
	case protocol.CodeInvalidList, protocol.CodeClockSkew, protocol.CodeTooLarge, protocol.CodeBadRequest:
		return codes[0], true
	}
	return 0, false
}

// deadlineQueue holds ops in deadline order. Every op of a kind gets the
// same timeout when it starts, so arrival order is deadline order and a
// FIFO suffices. Ops that end early stay queued, marked closed, and are
// skipped.
type deadlineQueue struct {
	ops  []*op
	head int
}

func (q *deadlineQueue) push(o *op) { q.ops = append(q.ops, o) }

// front returns the earliest op still open, or nil.
func (q *deadlineQueue) front() *op {
	for q.head < len(q.ops) && q.ops[q.head].closed {
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
