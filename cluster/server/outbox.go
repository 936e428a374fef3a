package server

import (
	"time"

	"shoplist/protocol"
)

// With Config.Batch the answers the loop has for a proxy in one turn — its
// own (cached Fetches, refusals) and the workers' — go as one Batch message
// when the turn ends (flushLinks), the mirror of what the proxy does with
// the requests it sends (cluster/proxy/outbox.go). A link that closes drops
// what it gathered, as it would drop what it had queued.

// answer sends m, an answer stamped with the server's epoch, to the proxy
// on lk: now, or with Config.Batch at the end of the turn.
func (l *loop) answer(lk *link, m protocol.Message, now time.Time) {
	if !l.s.cfg.Batch {
		l.sendAnswer(lk, m, now)
		return
	}
	if !lk.out.Fits(m) {
		l.flushLink(lk, now)
	}
	if lk.out.Len() == 0 {
		l.gathering = append(l.gathering, lk)
	}
	lk.out.Add(m)
}

// flushLinks sends what every link gathered this turn.
func (l *loop) flushLinks(now time.Time) {
	for _, lk := range l.gathering {
		l.flushLink(lk, now)
	}
	clear(l.gathering)
	l.gathering = l.gathering[:0]
}

// flushLink sends what lk gathered, as one message.
func (l *loop) flushLink(lk *link, now time.Time) {
	if m, ok := lk.out.Take(l.s.epoch.Load()); ok {
		l.sendAnswer(lk, m, now)
	}
}

// sendAnswer sends m to the proxy on lk; a failure drops it.
func (l *loop) sendAnswer(lk *link, m protocol.Message, now time.Time) {
	if err := lk.send(m, now); err != nil {
		l.s.log.warn("reply-dropped", "server: reply dropped; the proxy will time the request out", "err", err)
	}
}
