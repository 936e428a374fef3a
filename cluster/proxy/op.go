package proxy

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// A request's life. Every request the proxy makes of the storage servers
// on someone's behalf is an op: a client's push or pull, the read repair a
// pull leaves behind, a fallback's handoff. An op sends one call to each
// server it targets (route.go) and lives through three states:
//
//	start ──────── fewer targets than its quorum: reject ─────────┐
//	  │                                                           │
//	  ▼                                                           ▼
//	waiting ─┬─ quorum reached: succeed ───────┬─► answered ──► ended
//	         └─ quorum out of reach: reject ───┘    no call pending
//
// waiting: calls are out and whoever asked has no answer yet. answered:
// it has its answer, as soon as the quorum is reached or can no longer be
// (a repair, which answers no one, starts here); the calls still out are
// awaited, since a pull repairs from every answer. ended: every call was
// answered or failed; the op's calls are forgotten and its end takes
// effect (a pull repairs the replicas that were behind, a push stops
// counting as writing its list).
//
// Three events move an op, each by resolving one of its calls: a server's
// reply (onReply), a server's failure (failCallsTo: it went down,
// restarted or left the ring; or its reply was unreadable), and the op's
// deadline (expire), which fails every call still out. After each, advance
// takes the op to the state its counts call for.

// opTable is the ops in progress and their calls.
type opTable struct {
	calls   map[uint64]call   // backend requests awaiting a reply, by request ID
	queue   deadlineQueue     // ops in deadline order
	stale   map[*op]bool      // ops waiting for a newer view to route refused calls again (reroute.go)
	active  int               // client requests in progress (pushes, pulls, handoffs)
	writing map[uuid.UUID]int // pushes in progress, by list (see repair)
	nextID  uint64            // last backend request ID used, by ops and anti-entropy
}

// newRequestID returns a backend request ID no call in flight uses.
func (t *opTable) newRequestID() uint64 {
	t.nextID++
	return t.nextID
}

// opKind is what an op does.
type opKind uint8

const (
	opPush    opKind = iota + 1 // a client's write: Store on the owners, W acks
	opPull                      // a client's read: Fetch from the owners, R answers
	opRepair                    // read repair: Store the merged state on stale replicas
	opHandoff                   // a fallback's Handoff: Store on the owner it names, 1 ack
	opReread                    // a read for read repair alone: Fetch from the owners (repair.go)
)

func (k opKind) String() string {
	return [...]string{opPush: "push", opPull: "pull", opRepair: "read repair", opHandoff: "handoff", opReread: "read for repair"}[k]
}

// opState is where an op is in its life.
type opState uint8

const (
	opWaiting  opState = iota // calls out, no answer given yet
	opAnswered                // answered; calls may still be out
	opEnded                   // every call answered or failed; forgotten
)

// op is one request in progress: the backend calls it made and what came
// back.
type op struct {
	kind     opKind
	state    opState
	identity []byte // the client's (handoff: the fallback server's) routing identity; nil for repairs
	reqID    uint64 // the client's (handoff: the fallback's) request ID
	list     uuid.UUID
	body     []byte // push: the state pushed; repair: the merged state
	deadline time.Time
	need     int    // W or R (0 for repairs)
	replicas int    // servers in the preference list
	epoch    uint64 // the ring epoch its calls were last routed under

	calls    []uint64 // backend request IDs, answered or not
	pending  int      // calls not yet answered
	parked   int      // calls refused as stale, to be routed again under a newer view (reroute.go)
	ok       int      // acknowledgements (push, repair) or answers (pull)
	counted  []string // the servers whose replies counted in ok
	answers  []answer // pull: the replicas' states
	failures []string // why servers did not count, for the error message
	codes    []protocol.ErrorCode

	holderOwns bool // handoff: the fallback is itself an owner of the list

	// askedAgain: a pull whose client is answered by another pull
	// (pullPlain), which also repairs the owners.
	askedAgain bool

	// known: a pull's PullBody.Known, the StateHash of the state the
	// client holds; nil for a Pull without a body. plain: the pull asks
	// the owners for their states whatever known is (see pullPlain).
	known *uint64
	plain bool

	// The memory budget (budget.go): the account the op's bytes count
	// against (nil: counted nowhere), the bytes reserved at admission and
	// the answers' bytes kept; it holds the larger of the two, until
	// settled.
	acct     *account
	reserved int64
	kept     int64
	settled  bool
	// overBudget: an answer was dropped for lack of memory, so a failure
	// is told as Unavailable rather than a quorum failure.
	overBudget bool

	// The new-list cap (newlists.go): newListKey is the client's key while
	// the push holds a token, existingOnly that it holds none and was sent
	// as StoreExisting; createdAcks counts acknowledgements saying the
	// list was created by the push.
	newListKey   string
	existingOnly bool
	createdAcks  int
}

// answer is one replica's reply to a Fetch; body is nil for "not found",
// and for a replica that answered Unchanged: it holds the state the
// client named, which the proxy has not seen.
type answer struct {
	server    string
	body      []byte
	unchanged bool
	fallback  bool // from a server standing in for a down owner
}

// unchangedAnswers counts the answers that were Unchanged.
func (o *op) unchangedAnswers() int {
	n := 0
	for _, a := range o.answers {
		if a.unchanged {
			n++
		}
	}
	return n
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

// start sends each target the message build returns for it. Whoever asked
// is answered at once if the quorum is out of reach before anything is
// sent, so nothing is half-done.
func (l *loop) start(o *op, targets []target, build func(reqID uint64, t target) (protocol.Message, error)) {
	o.epoch = l.ring.view.Epoch
	if len(targets) < o.need {
		l.end(o)
		return
	}
	l.sendCalls(o, targets, build)
	l.ops.queue.push(o)
	l.advance(o)
}

// sendCalls sends each target the message build returns for it and
// records the calls; a send that fails counts as that target's failure.
func (l *loop) sendCalls(o *op, targets []target, build func(reqID uint64, t target) (protocol.Message, error)) {
	for _, t := range targets {
		id := l.ops.newRequestID()
		c := call{op: o, server: t.pr.id, forOwn: t.forOwn}
		m, err := build(id, t)
		if err == nil {
			err = l.sendFor(t.pr, m, o.acct)
		}
		if err != nil {
			o.failures = append(o.failures, fmt.Sprintf("%s: send failed (%v)", c.label(), err))
			continue
		}
		l.ops.calls[id] = c
		o.calls = append(o.calls, id)
		o.pending++
	}
}

// onReply matches a server's reply to its call.
func (l *loop) onReply(pr *peer, m protocol.Message) {
	c, ok := l.ops.calls[m.RequestID]
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
			// request was routed under: this proxy catches up through
			// its membership and routes the call again (reroute.go).
			l.stats.staleEpoch++
			l.log.Debug("request refused: stale epoch", "server", pr.id, "proxy_epoch", l.ring.view.Epoch, "server_epoch", m.Epoch)
			l.park(m.RequestID, c, "stale epoch ("+eb.Message+")", m.Epoch)
			return
		}
		l.resolve(m.RequestID, c, eb.Code.String()+": "+eb.Message, eb.Code)
	case m.ListID != o.list:
		l.resolve(m.RequestID, c, fmt.Sprintf("answered for list %s", m.ListID), 0)
	case m.Type == protocol.TypeUnchanged && o.namesState():
		o.answers = append(o.answers, answer{server: pr.id, unchanged: true, fallback: c.forOwn != ""})
		l.resolve(m.RequestID, c, "", 0)
	case m.Type == protocol.TypeFetchReply && (o.kind == opPull || o.kind == opReread):
		if !l.charge(o, msgBytes(m)) {
			o.overBudget = true
			l.resolve(m.RequestID, c, "answer dropped: proxy memory budget reached", 0)
			return
		}
		o.answers = append(o.answers, answer{server: pr.id, body: m.Body, fallback: c.forOwn != ""})
		if m.Body != nil {
			l.mem.learnSize(o.list, int64(len(m.Body)))
		}
		l.resolve(m.RequestID, c, "", 0)
	case m.Type == protocol.TypeStoreReply && o.kind != opPull && o.kind != opReread:
		if b, err := protocol.DecodeStoreReplyBody(m.Body); err == nil && b.Created {
			o.createdAcks++
		}
		l.resolve(m.RequestID, c, "", 0)
	default:
		l.resolve(m.RequestID, c, fmt.Sprintf("answered a %v with %v", o.kind, m.Type), 0)
	}
}

// failCallsTo fails every call in flight to the server, oldest first. The
// calls are collected before any fails: failing one may end its op, which
// forgets its other calls and may start a read repair with calls of its
// own.
func (l *loop) failCallsTo(server, why string) {
	var ids []uint64
	for id, c := range l.ops.calls {
		if c.server == server {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if c, ok := l.ops.calls[id]; ok {
			l.resolve(id, c, why, 0)
		}
	}
}

// expire ends the ops whose deadline has passed: their calls still out
// fail.
func (l *loop) expire() {
	for {
		o := l.ops.queue.front()
		if o == nil || o.deadline.After(l.now) {
			return
		}
		l.ops.queue.pop()
		wait := l.cfg.Timeout.String()
		for _, id := range o.calls {
			if c, ok := l.ops.calls[id]; ok {
				l.resolve(id, c, "no answer within "+wait, 0)
			}
		}
		l.end(o)
	}
}

// resolve records the end of one call: a success when why is "", else a
// failure (with the server's error code, if it sent one).
func (l *loop) resolve(reqID uint64, c call, why string, code protocol.ErrorCode) {
	delete(l.ops.calls, reqID)
	o := c.op
	o.pending--
	if why == "" {
		o.ok++
		o.counted = append(o.counted, c.server)
	} else {
		o.failures = append(o.failures, c.label()+": "+why)
		if code != 0 {
			o.codes = append(o.codes, code)
		}
	}
	l.advance(o)
}

// advance takes the op to the state its counts call for: answered once
// the quorum is reached or out of reach, ended once no call is pending. A
// call parked for a newer view may still count, so an op waiting for one
// is neither rejected nor ended here: the view comes, or the deadline.
func (l *loop) advance(o *op) {
	if o.state == opWaiting {
		switch {
		case o.ok >= o.need:
			o.state = opAnswered
			l.succeed(o)
		case o.ok+o.pending+o.parked < o.need:
			o.state = opAnswered
			l.reject(o)
		}
	}
	if o.pending == 0 && (o.parked == 0 || o.state != opWaiting) {
		l.end(o)
	}
}

// end ends an op, answering whoever asked if it has no answer yet: its
// calls are forgotten and its end takes effect.
func (l *loop) end(o *op) {
	switch o.state {
	case opEnded:
		return
	case opWaiting:
		o.state = opAnswered
		l.reject(o)
	}
	o.state = opEnded
	for _, id := range o.calls {
		delete(l.ops.calls, id)
	}
	delete(l.ops.stale, o)
	defer l.settle(o)
	switch o.kind {
	case opPull:
		l.ops.active--
		l.repair(o)
	case opPush:
		l.ops.active--
		if l.ops.writing[o.list]--; l.ops.writing[o.list] <= 0 {
			delete(l.ops.writing, o.list)
		}
		if o.newListKey != "" {
			// A list is new when every replica that acknowledged the
			// push held nothing of it before.
			l.newLists.end(o.newListKey, o.ok > 0 && o.createdAcks == o.ok, l.now)
		}
	case opHandoff:
		l.ops.active--
	case opRepair:
		if len(o.failures) > 0 {
			l.log.Debug("read repair incomplete", "list", o.list, "failures", o.failures)
		}
	case opReread:
		// Its hold goes before the repair's room is reckoned.
		answers := o.answers
		l.settle(o)
		o.answers = answers
		l.repair(o)
	}
}

// succeed answers an op that reached its quorum. A push is then published
// to subscribers.
func (l *loop) succeed(o *op) {
	switch o.kind {
	case opPush:
		l.reply(o.identity, protocol.NewOK(o.reqID, o.list))
		l.publish(o)
	case opHandoff:
		l.handoffDelivered(o)
	case opPull:
		// Replicas that answered Unchanged hold the state the client
		// named; the others sent theirs, merged here. The client is told
		// Unchanged when the others add nothing (they sent nothing, or
		// their merge is its state). Otherwise the answer must be a read
		// of the cluster, which the client trusts to drop what the
		// cluster has forgotten (crdt.List.MergeComplete), and the merge
		// of the others alone is not: the owners are asked again for
		// their states.
		merged, err := mergeAnswers(o.list, o.answers)
		unchanged := o.unchangedAnswers() > 0
		if err != nil {
			l.bad.report(l.log, l.now, "backend", []byte("replicas of "+o.list.String()), err)
		}
		if errors.Is(err, errUndecodable) && !unchanged {
			l.stats.failed++
			l.reply(o.identity, protocol.NewError(o.reqID, protocol.CodeInternal,
				fmt.Sprintf("pull of list %s: %v", o.list, err)))
			return
		}
		if o.known != nil && ((merged == nil && unchanged) || (merged != nil && crdt.StateHash(merged) == *o.known)) {
			// The client named this very state in its Pull: tell it so
			// rather than send it again. Not found is never unchanged.
			// Read repair still follows when the op ends.
			l.stats.unchanged++
			l.reply(o.identity, protocol.NewUnchanged(o.reqID, o.list))
			return
		}
		if unchanged {
			l.pullPlain(o)
			return
		}
		reply := protocol.NewPullReply(o.reqID, o.list, merged)
		if ok, why := l.mem.fits(o.acct, msgBytes(reply)); !ok {
			// Its queue toward the client would hold more than its share.
			l.stats.failed++
			l.mem.refused++
			l.reply(o.identity, l.mem.refusal(o.reqID, why))
			return
		}
		l.reply(o.identity, reply)
	}
}

// reject answers an op that cannot reach its quorum (rejection.go).
func (l *loop) reject(o *op) {
	switch o.kind {
	case opRepair:
		return // no one to answer
	case opHandoff:
		l.stats.handoffsFailed++
		l.sendRaw(o.identity, o.rejection())
		return
	}
	l.stats.failed++
	if o.existingOnly && slices.Contains(o.codes, protocol.CodeNotFound) {
		// Replicas that do not hold the list refused it: a new list, past
		// the client's cap.
		l.reply(o.identity, l.newLists.refusal(o.reqID, o.list, newListOwner(o.acct, o.identity), l.now))
		return
	}
	l.reply(o.identity, o.rejection())
}
