package proxy

import (
	"slices"

	"shoplist/cluster/placement"
	"shoplist/protocol"
)

// The ring the loop routes with: the views it adopts from the membership,
// and the announcement of each epoch to the servers. Servers place lists
// on the ring of the latest epoch they adopted, and refuse requests routed
// under an older one (StaleEpoch), so the proxy tells every member about
// each epoch: on every view change, after each ServerWelcome, and whenever
// a member's message shows an older epoch (at most once per heartbeat
// interval per server, since replies in flight keep showing the old epoch
// for a while). Epoch 0 (nothing decided yet) is never announced.

// ringState is the membership as the loop routes with it.
type ringState struct {
	members   placement.Membership
	leader    placement.Leader // whether this proxy leads its group (duties.go)
	view      placement.View   // the latest view adopted
	announced announcement     // the view's EpochAnnounce
}

// announcement is the EpochAnnounce of one epoch, encoded once.
type announcement struct {
	epoch uint64
	msg   protocol.Message
	ok    bool // msg is valid; false if the view could not be encoded
}

// refreshView adopts the membership's latest view: it welcomes servers
// whose join was decided, stops routing to servers that were removed or
// whose admission was revoked, and announces the new epoch to the members.
func (l *loop) refreshView() {
	v := l.ring.members.View()
	admission := v.Admitted != l.ring.view.Admitted
	if v.Epoch == l.ring.view.Epoch {
		// Recording a proxy or admitting a server does not change the
		// ring or its epoch, but the endpoints Welcome lists and the
		// servers the backend accepts must follow it.
		if !slices.Equal(v.Proxies, l.ring.view.Proxies) || admission {
			proxies := !slices.Equal(v.Proxies, l.ring.view.Proxies)
			l.ring.view.Proxies, l.ring.view.Admitted = v.Proxies, v.Admitted
			cur := l.ring.view
			l.link.published.Store(&cur)
			if proxies {
				l.syncRelays(l.zctx)
			}
		}
		if admission {
			l.dropRevoked()
		}
		return
	}
	proxies := !slices.Equal(v.Proxies, l.ring.view.Proxies)
	l.ring.view = v
	l.link.published.Store(&v)
	if proxies {
		l.syncRelays(l.zctx)
	}
	if admission {
		l.dropRevoked()
	}
	l.removals.Track(v)
	l.log.Info("ring changed", "epoch", v.Epoch, "members", v.Ring.Servers(), "leaving", v.Leaving)
	defer l.rerouteStale() // once the servers of the new view are welcomed
	for id, pr := range l.peers.byID {
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

// announcement returns the EpochAnnounce notification of the current view,
// encoded once per epoch; false when there is nothing to announce (epoch
// 0) or the view cannot be encoded (logged once per epoch).
func (l *loop) announcement() (protocol.Message, bool) {
	if l.ring.view.Epoch == 0 || l.ring.view.Ring == nil {
		return protocol.Message{}, false
	}
	if l.ring.announced.epoch != l.ring.view.Epoch {
		m, err := protocol.NewEpochAnnounce(0, l.ring.view.EpochBody(l.cfg.N))
		if err != nil {
			l.log.Error("ring epoch cannot be announced to servers", "epoch", l.ring.view.Epoch, "err", err)
		}
		l.ring.announced.epoch, l.ring.announced.msg, l.ring.announced.ok = l.ring.view.Epoch, m, err == nil
	}
	return l.ring.announced.msg, l.ring.announced.ok
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
	case epoch < l.ring.view.Epoch:
		if l.now.Sub(pr.announced) >= l.cfg.Heartbeat {
			l.announce(pr)
		}
	case epoch > l.ring.view.Epoch && epoch > pr.ahead:
		pr.ahead = epoch
		l.log.Info("server is at a newer ring epoch than this proxy", "server", pr.id,
			"server_epoch", epoch, "proxy_epoch", l.ring.view.Epoch)
	}
}
