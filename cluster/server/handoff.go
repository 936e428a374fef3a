package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"shoplist/protocol"
	"shoplist/storage"
)

// Hinted handoff, the holder's side. A server that took a HintedStore for a
// down owner keeps the state in its store with a durable hint
// (storage.SaveHinted). The handoff goroutine (handoffLoop) delivers every
// hint periodically (Config.HandoffInterval) and at once after a welcome, an
// adopted epoch or a new hint: it reads the hints, then each list's state,
// and hands Handoff requests to the socket loop, which sends them to a
// proxy and routes each answer back. On StoreReply or OK (the owner made the
// state durable; OK says this server is itself an owner) it drops the hint,
// and its copy of the list when the rule of storage/drop.go allows. On an
// Error the hint stays for the next round; an Unavailable owner is skipped
// for the rest of the round; NotFound (the server named is no owner any
// more) re-targets the hint to the list's current owners. Move hints
// (rebalancing, rebalance.go) take the same way; each round starts with a
// rebalance pass if a new ring was adopted.

// handoffWindow is how many Handoffs are in flight at once: a new one is
// sent as each is answered. Each is a proxy round trip and a durable
// Store on the owner, whose fsyncs concurrent Stores share, so a wide
// window moves lists at the rate of the owners' group commits rather than
// of one round trip at a time.
const handoffWindow = 64

// handoffReq is a Handoff on its way from the handoff goroutine to the loop.
type handoffReq struct {
	hint storage.Hint
	msg  protocol.Message // request ID and epoch are set by the loop
	cost int64            // what it holds of the memory budget until sent
}

// handoffResult is the outcome of one Handoff, from the loop.
type handoffResult struct {
	hint storage.Hint
	owns bool  // the proxy answered OK: this server owns the list
	err  error // nil: delivered durably to the owner
}

// pendingHandoff is a Handoff the loop has sent and awaits an answer to.
type pendingHandoff struct {
	hint     storage.Hint
	link     int
	gen      uint64
	deadline time.Time
}

// firstHandoffID is where the loop's handoff request IDs start: far from
// the hello IDs of links, so that an Error answering one is not taken for
// the other.
const firstHandoffID = 1 << 40

// kickHandoff asks the handoff goroutine for a round now, without blocking.
func (s *Server) kickHandoff() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// handoffLoop is the handoff goroutine: a round each interval or kick,
// until ctx ends or the loop stops.
func (s *Server) handoffLoop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.HandoffInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.loopDone:
			return
		case <-tick.C:
		case <-s.kick:
		}
		if ctx.Err() != nil {
			return // a kick and the end can come together: select picks either
		}
		s.handoffRound(ctx)
	}
}

// handoffRound runs a rebalance pass if a new ring has been adopted, then
// tries to deliver every hint once, handoffWindow at a time. Once a whole
// window's worth of Handoffs in a row got no answer from a proxy (none has
// welcomed the server, or none answered in time), the round sends no more
// and ends when those in flight are answered: the rest would only wait
// the same way. So does a round once the memory budget has no room for the
// next Handoff (budget.go).
func (s *Server) handoffRound(ctx context.Context) {
	s.maybeRebalance(ctx)
	hints, err := s.store.Hints()
	if err != nil {
		s.log.error("hints-unreadable", "server: cannot read hints", "err", err)
		return
	}
	skip := map[string]bool{} // owners found unavailable in this round
	var tally roundTally
	defer tally.log(s)
	inFlight, unanswered := 0, 0 // unanswered: results in a row without a proxy's answer
	full := false                // the memory budget had no room: send no more this round
	for {
		for len(hints) > 0 && inFlight < handoffWindow && unanswered < handoffWindow && !full {
			h := hints[0]
			if skip[h.Owner] {
				hints = hints[1:]
				continue
			}
			var queued bool
			if queued, full = s.queueHandoff(h); !full {
				hints = hints[1:]
			}
			if queued {
				inFlight++
			}
		}
		if inFlight == 0 {
			return
		}
		select {
		case r := <-s.handoffResults:
			inFlight--
			var eb protocol.ErrorBody
			if r.err != nil && !errors.As(r.err, &eb) {
				unanswered++
			} else {
				unanswered = 0
			}
			s.handoffDone(r, skip, &tally)
		case <-ctx.Done():
			return
		case <-s.loopDone:
			return
		}
	}
}

// queueHandoff reads the hinted list, with the write version that guards
// its copy (storage.Store.LoadHinted), and queues its Handoff for the loop.
// full reports that the memory budget had no room for it: nothing was
// queued, and the hint waits for a later round.
func (s *Server) queueHandoff(h storage.Hint) (queued, full bool) {
	h, enc, err := s.store.LoadHinted(h)
	if err == nil && h.Written == 0 {
		return false, false // stored since the hints were read: next round (storage/drop.go)
	}
	if errors.Is(err, storage.ErrNotFound) {
		// A hint is written with its data; nothing to deliver.
		if _, _, err := s.store.DropHint(h, false); err != nil {
			s.log.error("hint-drop", "server: cannot drop a hint", "list", h.List, "owner", h.Owner, "err", err)
		}
		return false, false
	}
	if err != nil {
		s.log.error("hint-load", "server: cannot read a hinted list; its hint stays", "list", h.List, "owner", h.Owner, "err", err)
		return false, false
	}
	m, err := protocol.NewHandoff(0, 0, h.List, h.Owner, enc)
	if err != nil {
		s.log.error("hint-encode", "server: cannot hand a list off", "list", h.List, "owner", h.Owner, "err", err)
		return false, false
	}
	c := cost(m)
	if !s.mem.take(c) {
		s.log.warn("memory-budget", "server: memory budget reached; handoffs wait for the next round", "list", h.List, "owner", h.Owner)
		return false, true
	}
	s.replies.putHandoff(handoffReq{hint: h, msg: m, cost: c})
	return true, false
}

// handoffDone applies a Handoff's outcome: a delivered hint is dropped, with
// the copy as storage/drop.go rules (its conditions 1 and 2 are decided
// here). NotFound (the server named is no owner any more) re-targets the
// hint.
func (s *Server) handoffDone(r handoffResult, skip map[string]bool, tally *roundTally) {
	if r.err != nil {
		tally.failed++
		var eb protocol.ErrorBody
		if errors.As(r.err, &eb) {
			switch eb.Code {
			case protocol.CodeUnavailable:
				skip[r.hint.Owner] = true
			case protocol.CodeNotFound:
				s.retarget(r.hint)
				return
			}
		}
		s.log.warn("handoff-failed", "server: hinted handoff not delivered; retrying later", "list", r.hint.List, "owner", r.hint.Owner, "err", r.err)
		return
	}
	dropList := !r.owns && !s.ownsByRing(r.hint.List)
	hintDropped, listDropped, err := s.store.DropHint(r.hint, dropList)
	if err != nil {
		s.log.error("hint-drop", "server: cannot drop a delivered hint; it will be delivered again", "list", r.hint.List, "owner", r.hint.Owner, "err", err)
		return
	}
	if hintDropped {
		tally.delivered++
		s.stats.handoffs.Add(1)
		if r.hint.Move {
			tally.moved++
			s.stats.moves.Add(1)
		}
	}
	if listDropped {
		tally.dropped++
		s.stats.dropped.Add(1)
	}
	s.cfg.Logger.Debug("hinted handoff delivered", "server", s.id, "list", r.hint.List, "owner", r.hint.Owner,
		"move", r.hint.Move, "hint_dropped", hintDropped, "copy_dropped", listDropped)
}

// roundTally counts what one handoff round did, for its log line.
type roundTally struct {
	delivered, moved, dropped, failed int
}

// log logs the round's figures if it delivered anything (at Debug level if
// it only failed: the failures have their own rate-limited warnings).
func (t *roundTally) log(s *Server) {
	logf := s.cfg.Logger.Info
	switch {
	case t.delivered == 0 && t.failed == 0:
		return
	case t.delivered == 0:
		logf = s.cfg.Logger.Debug
	}
	logf("handoff round", "server", s.id, "delivered", t.delivered, "lists_moved", t.moved,
		"copies_dropped", t.dropped, "failed", t.failed, "hints_left", s.store.HintCount(), "moving_left", s.store.MoveHintCount())
}

// sendHandoffs sends the Handoffs the handoff goroutine queued, on the
// first welcomed link; each gets a result, now or when answered or timed
// out.
func (l *loop) sendHandoffs(reqs []handoffReq, now time.Time) {
	for _, r := range reqs {
		l.s.mem.release(r.cost) // ZeroMQ's or dropped, from here
		lk := l.welcomedLink()
		if lk == nil {
			l.handoffResult(handoffResult{hint: r.hint, err: errors.New("no proxy has welcomed this server")})
			continue
		}
		l.nextHandoff++
		m := r.msg
		m.RequestID = l.nextHandoff
		if err := lk.send(l.s.stamp(m), now); err != nil {
			l.handoffResult(handoffResult{hint: r.hint, err: err})
			continue
		}
		l.pending[m.RequestID] = pendingHandoff{hint: r.hint, link: lk.index, gen: lk.gen, deadline: now.Add(l.s.cfg.HandoffTimeout)}
	}
}

// welcomedLink returns a link whose proxy has welcomed the server, or nil.
func (l *loop) welcomedLink() *link {
	for _, lk := range l.links {
		if lk.welcomed && lk.sock != nil {
			return lk
		}
	}
	return nil
}

// handoffAnswered routes a proxy's StoreReply, OK or Error (err) to the
// Handoff it answers; false if it answers none.
func (l *loop) handoffAnswered(lk *link, m protocol.Message, err error) bool {
	p, ok := l.pending[m.RequestID]
	if !ok || p.link != lk.index || p.gen != lk.gen {
		return false
	}
	delete(l.pending, m.RequestID)
	r := handoffResult{hint: p.hint, err: err}
	switch {
	case err != nil:
	case m.ListID != p.hint.List:
		r.err = fmt.Errorf("the proxy answered the handoff of list %s for list %s", p.hint.List, m.ListID)
	case m.Type == protocol.TypeOK:
		r.owns = true
	}
	l.handoffResult(r)
	return true
}

// expireHandoffs fails the Handoffs past their deadline and returns the
// next deadline (now + an interval when none is pending).
func (l *loop) expireHandoffs(now time.Time) time.Time {
	next := now.Add(l.s.cfg.Heartbeat)
	for id, p := range l.pending {
		if !now.Before(p.deadline) {
			delete(l.pending, id)
			l.handoffResult(handoffResult{hint: p.hint, err: fmt.Errorf("no answer from the proxy within %v", l.s.cfg.HandoffTimeout)})
			continue
		}
		next = earliest(next, p.deadline)
	}
	return next
}

// handoffResult passes a result to the handoff goroutine. The channel has
// room for a whole window, and the goroutine never has more than a window
// in flight, so this never blocks.
func (l *loop) handoffResult(r handoffResult) {
	select {
	case l.s.handoffResults <- r:
	default:
		l.s.log.error("handoff-result", "server: handoff result dropped", "list", r.hint.List)
	}
}
