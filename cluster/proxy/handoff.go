package proxy

import (
	"fmt"
	"slices"

	"shoplist/protocol"
)

// Hinted handoff, the proxy's side. A fallback server that took a
// HintedStore for a down owner offers the list back with a Handoff naming
// the owner. The proxy stores it on that owner as an ordinary Store (an op
// of kind opHandoff that needs one acknowledgement) and answers the
// fallback once the owner has made it durable: StoreReply when the fallback
// does not own the list on the proxy's ring (it may drop its copy), OK when
// it does (it keeps its copy and drops only the hint). Otherwise it answers
// an Error and the fallback keeps the hint: Unavailable while the owner is
// down (or the proxy overloaded), NotFound when the owner named is no
// longer one of the list's N owners on the proxy's ring (removed, leaving,
// or moved off the list's range by a ring change: the fallback then hands
// the list to its current owners instead), the owner's own refusal
// (InvalidList, ClockSkew…) if it refused the state. A leaving fallback
// never owns the list (leaving servers are not placed), so a delivered
// Handoff always lets it drop its copy.

// onHandoff starts the delivery of a fallback's Handoff to its owner.
func (l *loop) onHandoff(holder *peer, m protocol.Message) {
	refuse := func(code protocol.ErrorCode, format string, args ...any) {
		reply := protocol.NewError(m.RequestID, code, fmt.Sprintf(format, args...))
		reply.ListID = m.ListID
		l.stats.handoffsFailed++
		l.send(holder, reply)
	}
	hb, err := protocol.DecodeHintBody(m.Body)
	if err != nil {
		l.bad.report(l.log, l.now, "backend", holder.identity, err)
		l.send(holder, protocol.NewErrorFrom(m.RequestID, fmt.Errorf("handoff body: %w", err)))
		return
	}
	owners := l.ring.view.Ring.Owners(m.ListID.String(), l.cfg.N)
	switch owner := l.peers.byID[hb.Owner]; {
	case hb.Owner == holder.id:
		refuse(protocol.CodeBadRequest, "handoff of list %s names its sender %s as the owner", m.ListID, holder.id)
	case !l.ring.view.Has(hb.Owner):
		refuse(protocol.CodeNotFound, "handoff of list %s: %s is not a ring member; hand the list to its current owners", m.ListID, hb.Owner)
	case l.ring.view.IsLeaving(hb.Owner):
		refuse(protocol.CodeNotFound, "handoff of list %s: %s is leaving the ring and not an owner any more; hand the list to its current owners", m.ListID, hb.Owner)
	case !slices.Contains(owners, hb.Owner):
		refuse(protocol.CodeNotFound, "handoff of list %s: %s is not one of its owners any more (ring epoch %d); hand the list to its current owners", m.ListID, hb.Owner, l.ring.view.Epoch)
	case owner == nil || !owner.usable():
		refuse(protocol.CodeUnavailable, "handoff of list %s: owner %s is down; retry later", m.ListID, hb.Owner)
	case l.ops.active >= l.cfg.MaxInFlight:
		refuse(protocol.CodeUnavailable, "proxy overloaded: %d requests in progress; retry later", l.ops.active)
	case !l.fitsHandoff(hb.List):
		l.stats.handoffsOverBudget++
		refuse(protocol.CodeUnavailable, "handoff of list %s: proxy memory budget reached; retry later", m.ListID)
	default:
		o := &op{
			kind:       opHandoff,
			identity:   holder.identity,
			reqID:      m.RequestID,
			list:       m.ListID,
			body:       hb.List,
			need:       1,
			replicas:   1,
			deadline:   l.now.Add(l.cfg.Timeout),
			holderOwns: slices.Contains(owners, holder.id),
		}
		l.ops.active++
		o.acct = &l.mem.handoff
		l.reserve(o, int64(len(hb.List))+msgOverhead)
		epoch := l.ring.view.Epoch
		l.start(o, []target{{pr: owner}}, func(id uint64, _ target) (protocol.Message, error) {
			return protocol.NewStore(id, epoch, m.ListID, hb.List), nil
		})
	}
}

// fitsHandoff reports whether the budget has room for delivering a hinted
// list: the list held, and its copy toward the owner.
func (l *loop) fitsHandoff(list []byte) bool {
	ok, _ := l.mem.fits(&l.mem.handoff, expectPush(list, 1))
	return ok
}

// handoffDelivered answers the fallback of a Handoff its owner acknowledged.
func (l *loop) handoffDelivered(o *op) {
	l.stats.handoffs++
	reply := protocol.NewStoreReply(o.reqID, o.list)
	if o.holderOwns {
		reply = protocol.NewOK(o.reqID, o.list)
	}
	reply.Epoch = l.ring.view.Epoch
	l.sendRaw(o.identity, reply)
	l.log.Debug("hinted handoff delivered", "list", o.list, "holder", string(o.identity), "holder_owns", o.holderOwns)
}
