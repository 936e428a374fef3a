package proxy

import (
	"slices"

	"shoplist/protocol"
)

// Routing again under a newer ring. Servers refuse a request routed under
// an older epoch than the one they adopted (StaleEpoch): during a ring
// change a proxy whose membership is one commit behind would otherwise
// fail the pushes and pulls it routes by the old ring, although the
// change is decided and on its way. A client's push or pull therefore
// parks each call refused as stale, by a server at a newer epoch than the
// one the op was routed under, instead of counting it as failed: the op
// waits, within its deadline, for the proxy to adopt a newer view, and
// then sends its request to the owners of the list on the new ring (and
// fallbacks for those that are down) that have not answered it yet. What
// already counted keeps counting: every acknowledgement is a durable copy
// that the servers' rebalancing carries to the new owners. If the view
// does not come in time the op fails at its deadline as before, naming
// the stale epoch. Repairs and handoffs are not routed again: read repair
// and anti-entropy come back to the list, and a fallback retries its
// Handoff.

// park records a call refused as stale by a server at serverEpoch. A
// client's push or pull that has no answer yet waits for a newer view to
// route it again, at once if the loop already has one; any other op counts
// it as a failure.
func (l *loop) park(reqID uint64, c call, why string, serverEpoch uint64) {
	o := c.op
	if (o.kind != opPush && o.kind != opPull) || o.state != opWaiting || serverEpoch <= o.epoch {
		l.resolve(reqID, c, why, protocol.CodeStaleEpoch)
		return
	}
	delete(l.ops.calls, reqID)
	o.pending--
	o.parked++
	o.failures = append(o.failures, c.label()+": "+why)
	if l.ring.view.Epoch > o.epoch {
		l.reroute(o)
		return
	}
	if l.ops.stale == nil {
		l.ops.stale = map[*op]bool{}
	}
	l.ops.stale[o] = true // until it is routed again or ends
	l.advance(o)
}

// rerouteStale routes again the ops waiting for a newer view: the loop
// has just adopted one.
func (l *loop) rerouteStale() {
	waiting := make([]*op, 0, len(l.ops.stale))
	for o := range l.ops.stale {
		waiting = append(waiting, o)
	}
	clear(l.ops.stale)
	for _, o := range waiting {
		if o.state == opWaiting && o.parked > 0 && l.ring.view.Epoch > o.epoch {
			l.reroute(o)
		}
	}
}

// reroute sends o's request, under the current view, to the list's owners
// (or their fallbacks) that have neither answered it nor a call of it in
// flight.
func (l *loop) reroute(o *op) {
	delete(l.ops.stale, o)
	o.parked = 0
	o.epoch = l.ring.view.Epoch
	l.stats.rerouted++
	owners := l.ring.view.Ring.Owners(o.list.String(), l.cfg.N)
	var fresh []target
	for _, t := range l.route(o, owners, true) {
		if !l.asked(o, t.pr.id) {
			fresh = append(fresh, t)
		}
	}
	l.log.Debug("request routed again under a newer epoch", "op", o.kind, "list", o.list, "epoch", o.epoch, "servers", len(fresh))
	epoch := o.epoch
	l.sendCalls(o, fresh, func(id uint64, t target) (protocol.Message, error) {
		switch {
		case o.kind == opPull:
			return o.fetch(id, epoch), nil
		case t.forOwn == "":
			return protocol.NewStore(id, epoch, o.list, o.body), nil
		}
		l.stats.hinted++
		return protocol.NewHintedStore(id, epoch, o.list, t.forOwn, o.body)
	})
	l.advance(o)
}

// asked reports whether server has answered o in a way that counted, or
// has one of o's calls in flight.
func (l *loop) asked(o *op, server string) bool {
	if slices.Contains(o.counted, server) {
		return true
	}
	for _, id := range o.calls {
		if c, ok := l.ops.calls[id]; ok && c.server == server {
			return true
		}
	}
	return false
}
