package proxy

import (
	"slices"

	"shoplist/protocol"
)

// repair sends the merged state of a read to every replica whose answer
// differed from it (read repair). It skips a list that a push is still being
// written to: replicas then differ mostly by that push, whose own Stores are
// on their way, and repairing would ship the whole list to a replica that is
// one item behind. A replica that is behind for another reason (it was down)
// is repaired by the first read of the list that meets no write in progress.
func (l *loop) repair(o *op) {
	if len(o.answers) == 0 {
		return
	}
	if l.ops.writing[o.list] > 0 {
		l.stats.repairsSkipped++
		return
	}
	if n := o.unchangedAnswers(); n == len(o.answers) || o.askedAgain {
		return // all hold the state the client named, or pullPlain's op repairs
	} else if n > 0 {
		l.reread(o)
		return
	}
	merged, err := mergeAnswers(o.list, o.answers)
	if err != nil || merged == nil {
		return
	}
	// Only owners are repaired, on the ring of now: a fallback keeps only
	// what is hinted for an owner, and its copy goes once the hint is
	// delivered; a server the ring has moved the list away from since it
	// answered (the pull may have been routed again under a newer epoch)
	// would refuse the Store.
	owners := l.ring.view.Ring.Owners(o.list.String(), l.cfg.N)
	var stale []string
	for _, a := range o.answers {
		if !a.fallback && slices.Contains(owners, a.server) && !equalBytes(a.body, merged) {
			stale = append(stale, a.server)
		}
	}
	if len(stale) == 0 {
		return
	}
	// The merge held, and a copy toward each stale replica. A repair is
	// never needed now: without room, the next read or anti-entropy does
	// it.
	size := int64(len(merged)) + msgOverhead
	if ok, _ := l.mem.fits(&l.mem.repair, size*int64(1+len(stale))); !ok {
		l.stats.repairsOverBudget++
		return
	}
	l.stats.repairs++
	r := &op{kind: opRepair, list: o.list, body: merged, deadline: l.now.Add(l.cfg.Timeout), state: opAnswered, acct: &l.mem.repair}
	l.reserve(r, size)
	epoch := l.ring.view.Epoch
	l.start(r, l.route(r, stale, false), func(id uint64, _ target) (protocol.Message, error) {
		return protocol.NewStore(id, epoch, o.list, merged), nil
	})
	l.log.Debug("read repair", "list", o.list, "stale", stale)
}

// reread reads the list again from its owners, without naming a state, so
// that read repair can follow: some replicas answered pull o Unchanged and
// others with a state of their own, and Unchanged says that a replica
// holds the client's state without saying what it is. Owners differ so
// mostly while a write is on its way, which repair skips anyway; this read
// is for a replica left behind.
func (l *loop) reread(o *op) {
	size := expectPull(l.mem.sizeOf(o.list), l.cfg.N)
	if ok, _ := l.mem.fits(&l.mem.repair, size); !ok {
		l.stats.repairsOverBudget++
		return
	}
	l.stats.rereads++
	r := &op{kind: opReread, list: o.list, deadline: l.now.Add(l.cfg.Timeout), state: opAnswered, acct: &l.mem.repair}
	l.reserve(r, size)
	l.startFetches(r, false)
}

// pullPlain answers pull o, which some owners answered Unchanged and
// others with a state the client does not hold, by asking the owners
// again for their states, without naming the client's, in a pull of its
// own that answers the client and repairs the owners; o is left to end.
// It keeps o's deadline, and runs once per client request.
func (l *loop) pullPlain(o *op) {
	o.askedAgain = true
	p := &op{kind: opPull, identity: o.identity, reqID: o.reqID, list: o.list, deadline: o.deadline,
		acct: o.acct, need: l.cfg.R, known: o.known, plain: true}
	l.ops.active++
	l.stats.pulledPlain++
	l.reserve(p, expectPull(l.mem.sizeOf(o.list), l.cfg.N))
	l.startFetches(p, true)
}
