package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"shoplist/protocol"
)

// Removal of members, by the leading proxy only (every proxy of a group
// sees the same servers, and one decision is enough):
//
//   - a member that has not been usable for Config.DeadAfter (counted from
//     when this proxy became leader at the latest, so a new leader gives
//     every server the full delay) is dead and removed; shorter outages
//     never change the ring;
//   - a leaving member (Proxy.Decommission) is removed once it has drained:
//     its latest ServerReport, sent at an epoch in which it was already
//     leaving, says it stores no list and keeps no hint.

// Decommission removes a server from the ring gracefully: with a Leaver
// membership it marks the server leaving, so it hands every list it holds
// to the list's owners before the leader removes it; otherwise it removes
// it at once (its lists are then served by their other replicas). It
// returns once the change is decided; ErrNotMember if the server is not a
// member.
func (p *Proxy) Decommission(ctx context.Context, id string) error {
	select {
	case <-p.done:
		return ErrClosed
	default:
	}
	var err error
	if lv, ok := p.members.(Leaver); ok {
		err = lv.Leave(ctx, id)
	} else {
		err = p.members.Remove(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("proxy: decommissioning %s: %w", id, err)
	}
	return nil
}

// onServerReport records a server's report of what it stores; a drained
// leaving server is then removed.
func (l *loop) onServerReport(pr *peer, m protocol.Message) {
	b, err := protocol.DecodeServerReportBody(m.Body)
	if err != nil {
		l.bad.report(l.log, l.now, "backend", pr.identity, err) // a notification: not answered
		return
	}
	l.stats.reports++
	pr.report = report{ServerReportBody: b, epoch: m.Epoch, at: l.now}
	l.removeDrained(pr)
}

// removeDrained removes a leaving member whose latest report shows it has
// handed everything over, if this proxy leads.
func (l *loop) removeDrained(pr *peer) {
	since, leaving := l.leavingSince[pr.id]
	r := pr.report
	if !leaving || r.at.IsZero() || r.epoch < since || r.Lists != 0 || r.Hints != 0 || !l.isLeader() {
		return
	}
	l.startRemove(pr.id, fmt.Sprintf("drained: it reported no lists and no hints at epoch %d", r.epoch))
}

// removeDead removes the members that have not been usable for DeadAfter,
// if this proxy leads. It runs with every sweep.
func (l *loop) removeDead() {
	if !l.isLeader() {
		l.leaderSince = time.Time{}
		return
	}
	if l.leaderSince.IsZero() {
		l.leaderSince = l.now
		l.log.Info("this proxy leads: it removes dead and drained servers", "dead_after", l.cfg.DeadAfter)
	}
	if l.cfg.DeadAfter < 0 {
		return
	}
	for _, id := range slices.Concat(l.view.Ring.Servers(), l.view.Leaving) {
		pr := l.servers[id]
		if pr != nil && pr.usable() {
			continue
		}
		since := l.leaderSince
		if pr != nil && pr.lastSeen.After(since) {
			since = pr.lastSeen
		}
		if gone := l.now.Sub(since); gone >= l.cfg.DeadAfter {
			l.startRemove(id, fmt.Sprintf("dead: unusable for %v (dead after %v)", gone.Round(time.Second), l.cfg.DeadAfter))
		}
	}
	// Drained servers whose last report came before this proxy led.
	for id := range l.leavingSince {
		if pr := l.servers[id]; pr != nil {
			l.removeDrained(pr)
		}
	}
}

// startRemove asks the membership to remove a member, off the loop, unless
// a removal of it is in progress or failed less than a heartbeat ago.
func (l *loop) startRemove(id, why string) {
	if l.removing[id] || l.now.Before(l.retryRemove[id]) {
		return
	}
	l.removing[id] = true
	l.log.Warn("removing server from the ring", "server", id, "why", why)
	l.spawn(func(ctx context.Context) {
		err := l.members.Remove(ctx, id)
		l.post(ctx, func(l *loop) { l.removed(id, err) })
	})
}

// removed handles the end of a removal.
func (l *loop) removed(id string, err error) {
	delete(l.removing, id)
	switch {
	case err == nil:
		l.stats.removals++
		delete(l.retryRemove, id)
		l.log.Info("server removed from the ring", "server", id)
	case errors.Is(err, ErrNotMember):
		delete(l.retryRemove, id) // someone else removed it
	default:
		l.retryRemove[id] = l.now.Add(l.cfg.Heartbeat)
		l.log.Warn("removing server failed; retrying", "server", id, "err", err)
	}
	l.refreshView()
}
