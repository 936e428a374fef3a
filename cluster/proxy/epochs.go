package proxy

import (
	"slices"

	"shoplist/protocol"
)

// Epoch announcement. Servers place lists on the ring of the latest epoch
// they adopted, and refuse requests routed under an older one
// (StaleEpoch), so the proxy tells every member about each epoch: on every
// view change, after each ServerWelcome, and whenever a member's message
// shows an older epoch (at most once per heartbeat interval per server,
// since replies in flight keep showing the old epoch for a while). Epoch 0
// (nothing decided yet) is never announced.

// refreshView adopts the membership's latest view: it welcomes servers
// whose join was decided, stops routing to servers that were removed and
// announces the new epoch to the members.
func (l *loop) refreshView() {
	v := l.members.View()
	if v.Epoch == l.view.Epoch {
		// Recording a proxy does not change the ring or its epoch, but
		// the endpoints Welcome lists must follow it.
		if !slices.Equal(v.Proxies, l.view.Proxies) {
			l.view.Proxies = v.Proxies
			cur := l.view
			l.published.Store(&cur)
		}
		return
	}
	l.view = v
	l.published.Store(&v)
	l.trackLeaving()
	l.log.Info("ring changed", "epoch", v.Epoch, "members", v.Ring.Servers(), "leaving", v.Leaving)
	for id, pr := range l.servers {
		in := v.Has(id)
		switch {
		case in && pr.helloReq != 0:
			l.welcome(pr, pr.helloReq)
		case in && pr.welcomed:
			l.announce(pr)
		case !in && pr.welcomed:
			pr.welcomed = false
			l.failCallsTo(id, "removed from the ring")
			l.log.Info("server left the ring", "server", id)
		}
	}
}

// trackLeaving records the epoch at which this proxy first saw each
// leaving member leaving, and forgets the members that are not leaving any
// more. A drained server is removed only on a report sent at that epoch or
// later, when it had already adopted a ring in which it owns nothing.
func (l *loop) trackLeaving() {
	for _, id := range l.view.Leaving {
		if _, ok := l.leavingSince[id]; !ok {
			l.leavingSince[id] = l.view.Epoch
		}
	}
	for id := range l.leavingSince {
		if !slices.Contains(l.view.Leaving, id) {
			delete(l.leavingSince, id)
		}
	}
}

// announcement returns the EpochAnnounce notification of the current view,
// encoded once per epoch; false when there is nothing to announce (epoch
// 0) or the view cannot be encoded (logged once per epoch).
func (l *loop) announcement() (protocol.Message, bool) {
	if l.view.Epoch == 0 || l.view.Ring == nil {
		return protocol.Message{}, false
	}
	if l.announced.epoch != l.view.Epoch {
		m, err := protocol.NewEpochAnnounce(0, l.view.EpochBody(l.cfg.N))
		if err != nil {
			l.log.Error("ring epoch cannot be announced to servers", "epoch", l.view.Epoch, "err", err)
		}
		l.announced.epoch, l.announced.msg, l.announced.ok = l.view.Epoch, m, err == nil
	}
	return l.announced.msg, l.announced.ok
}

// announce sends the current epoch to a welcomed member.
func (l *loop) announce(pr *peer) {
	m, ok := l.announcement()
	if !ok || !pr.welcomed {
		return
	}
	if l.send(pr, m) == nil {
		pr.announced = l.now
		l.stats.announced++
	}
}

// checkEpoch compares the epoch of a member's message with the proxy's:
// an older one gets the current epoch announced (rate-limited); a newer
// one means this proxy lags behind the membership, which it catches up
// with by itself, and is logged once per epoch and server.
func (l *loop) checkEpoch(pr *peer, epoch uint64) {
	switch {
	case epoch < l.view.Epoch:
		if l.now.Sub(pr.announced) >= l.cfg.Heartbeat {
			l.announce(pr)
		}
	case epoch > l.view.Epoch && epoch > pr.ahead:
		pr.ahead = epoch
		l.log.Info("server is at a newer ring epoch than this proxy", "server", pr.id,
			"server_epoch", epoch, "proxy_epoch", l.view.Epoch)
	}
}
