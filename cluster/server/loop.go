package server

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/zpoll"
)

// recvBatch is how many messages the loop reads from one socket before it
// looks at the others again.
const recvBatch = 256

// drainWait is how long the loop, stopping, waits for a worker's reply
// before it checks whether any worker is still running.
const drainWait = 50 * time.Millisecond

// loop is the socket loop's state. It belongs to the loop goroutine (run),
// which owns every socket in it: the doorbell's PULL end, and each proxy
// link's DEALER.
type loop struct {
	s       *Server
	pull    *zmq.Socket
	links   []*link
	poller  *zpoll.Poller
	dirty   bool    // the poller no longer matches the sockets and events wanted
	replies []reply // the last batch taken from the reply queue, for reuse
	batch   []job   // stores and fetches read this turn, for one worker (flushBatch)

	gathering []*link // links with answers gathered this turn (outbox.go)

	pending     map[uint64]pendingHandoff // Handoffs sent, by request ID
	nextHandoff uint64                    // last Handoff request ID used
	draining    bool                      // stopping: Handoffs are no longer sent
}

// run is the loop goroutine. It takes over pull, the doorbell's PULL end,
// connects to every proxy, reports on ready, then serves until ctx is done
// or polling fails, and finally waits for the workers' last replies.
func (s *Server) run(ctx context.Context, pull *zmq.Socket, ready chan<- error) {
	defer close(s.loopDone)
	l, err := s.newLoop(pull)
	ready <- err
	if err != nil {
		return
	}
	defer l.closeSockets()
	if err := l.serve(ctx); err != nil {
		s.cfg.Logger.Error("server: socket loop failed", "server", s.id, "err", err)
		s.loopErr = err
	}
	l.drain()
}

// newLoop creates the loop's DEALERs; on error it closes them and pull.
func (s *Server) newLoop(pull *zmq.Socket) (*loop, error) {
	l := &loop{s: s, pull: pull, dirty: true, pending: map[uint64]pendingHandoff{}, nextHandoff: firstHandoffID}
	var err error
	if l.poller, err = zpoll.New(); err != nil {
		pull.Close()
		return nil, fmt.Errorf("server: starting the socket loop: %w", err)
	}
	now := time.Now()
	for i, ep := range s.cfg.proxies {
		if err != nil {
			break
		}
		lk := &link{index: i, endpoint: ep.endpoint, key: ep.key}
		if err = lk.connect(s.id, s.key, now); err == nil {
			l.links = append(l.links, lk)
		}
	}
	if err != nil {
		l.closeSockets()
		return nil, fmt.Errorf("server: starting the socket loop: %w", err)
	}
	return l, nil
}

// closeSockets closes every socket the loop has.
func (l *loop) closeSockets() {
	for _, lk := range l.links {
		lk.close()
	}
	if l.pull != nil {
		l.pull.Close()
	}
	if l.poller != nil {
		l.poller.Close()
	}
}

// serve is the poll loop proper. It never blocks on anything but the poll,
// whose timeout is the next timer of any link.
func (l *loop) serve(ctx context.Context) error {
	for ctx.Err() == nil {
		now := time.Now()
		next := now.Add(l.s.cfg.Heartbeat)
		for _, lk := range l.links {
			next = earliest(next, lk.tick(l, now))
		}
		next = earliest(next, l.expireHandoffs(now))
		if l.dirty {
			if err := l.rebuildPoller(); err != nil {
				return err
			}
		}
		polled, err := l.poller.Poll(max(time.Until(next), 0))
		if err != nil {
			return fmt.Errorf("server: polling: %w", err)
		}
		for _, p := range polled {
			if p.Socket == l.pull {
				l.readRings(zmq.DONTWAIT)
				continue
			}
			if lk := l.monitored(p.Socket); lk != nil {
				l.readMonitor(lk)
				continue
			}
			lk := l.linkOf(p.Socket)
			if lk == nil {
				continue
			}
			if p.Events&zmq.POLLIN != 0 {
				l.readLink(lk)
			}
			if lk.helloDue && p.Events&zmq.POLLOUT != 0 {
				lk.sayHello(l.s.id, l.s.epoch.Load(), time.Now())
				l.dirty = l.dirty || !lk.helloDue
			}
		}
		l.flushBatch()
		// Every turn empties the reply queue, rung or not: replies that
		// came while the loop was busy go out without another wake-up.
		l.forwardReplies()
		l.flushLinks(time.Now())
	}
	return nil
}

// rebuildPoller polls the reply socket and each connected link: for input,
// and for output too while a hello is due (a writable DEALER with IMMEDIATE
// means the connection is up), and the link's handshake monitor.
func (l *loop) rebuildPoller() error {
	l.poller.Reset()
	err := l.poller.Add(l.pull, zmq.POLLIN)
	for _, lk := range l.links {
		if lk.sock == nil || err != nil {
			continue
		}
		events := zmq.POLLIN
		if lk.helloDue {
			events |= zmq.POLLOUT
		}
		err = l.poller.Add(lk.sock, events)
		if lk.mon != nil && err == nil {
			err = l.poller.Add(lk.mon, zmq.POLLIN)
		}
	}
	if err != nil {
		return fmt.Errorf("server: polling: %w", err)
	}
	l.dirty = false
	return nil
}

// linkOf returns the link whose socket is sock.
func (l *loop) linkOf(sock *zmq.Socket) *link {
	for _, lk := range l.links {
		if lk.sock == sock {
			return lk
		}
	}
	return nil
}

// readLink reads what a proxy sent, up to recvBatch messages.
func (l *loop) readLink(lk *link) {
	for range recvBatch {
		frames, ok := recvMessage(lk.sock)
		if !ok {
			return // nothing more for now
		}
		now := time.Now()
		lk.lastRecv = now
		l.dispatch(lk, frames, now)
	}
}

// readRings reads the doorbell's rings, up to recvBatch of them; they carry nothing
// but the wake-up. flags is DONTWAIT while serving; 0 while draining, with a
// receive timeout set.
func (l *loop) readRings(flags zmq.Flag) error {
	for range recvBatch {
		if _, err := l.pull.RecvBytes(flags); err != nil {
			return err // EAGAIN: no more rings for now
		}
		flags = zmq.DONTWAIT // one ring is enough to wait for
	}
	return nil
}

// forwardReplies takes the workers' queued replies and sends each to the
// connection its request came on, and sends the queued Handoffs.
func (l *loop) forwardReplies() {
	var handoffs []handoffReq
	l.replies, handoffs = l.s.replies.take(l.replies)
	now := time.Now()
	if len(handoffs) > 0 && l.draining {
		for _, r := range handoffs {
			l.s.mem.release(r.cost)
			l.handoffResult(handoffResult{hint: r.hint, err: errors.New("server shutting down")})
		}
	} else if len(handoffs) > 0 {
		l.sendHandoffs(handoffs, now)
	}
	if len(l.replies) == 0 {
		return
	}
	for _, r := range l.replies {
		l.s.mem.release(r.cost) // ZeroMQ's or dropped, from here
		lk := l.links[r.link]
		if lk.gen != r.gen || lk.sock == nil {
			// The request came on a connection since closed; its
			// request ID means nothing to whoever is there now.
			continue
		}
		l.answer(lk, r.msg, now)
	}
	clear(l.replies) // drop the bodies before the slice is reused
}

// drain runs once the loop stops serving: it closes the job queue and
// forwards the workers' last replies until every worker has stopped.
func (l *loop) drain() {
	l.draining = true
	l.flushBatch()
	close(l.s.jobs)
	if err := l.pull.SetRcvtimeo(drainWait); err != nil {
		l.s.cfg.Logger.Error("server: cannot wait for the workers' last replies", "err", err)
		return
	}
	for {
		// Read workersLeft before taking the queue: a worker queues its
		// last reply before it counts itself out.
		last := l.s.workersLeft.Load() == 0
		l.forwardReplies()
		l.flushLinks(time.Now())
		if last {
			return
		}
		err := l.readRings(0)
		if errno := zmq.AsErrno(err); err != nil && errno != zmq.Errno(syscall.EINTR) && errno != zmq.Errno(syscall.EAGAIN) {
			l.s.cfg.Logger.Error("server: cannot wait for the workers' last replies", "err", err)
			return
		}
	}
}

// recvMessage receives one whole message without waiting; ok is false if
// none is there.
//
// Before the message it asks the socket for its events, which makes libzmq
// process its pending commands there, between two messages. Otherwise
// libzmq 4.3.4 processes them every 100th receive call
// (socket_base_t::recv, inbound_poll_rate), which with two-frame messages
// falls between a header and its body; if a connection drop is pending
// then, an IMMEDIATE socket's reconnect has terminated the pipe without
// delay (session_base_t::reconnect) and receiving the body aborts the
// process (fq.cpp, assertion !_more; reported upstream as libzmq#3663).
// Processing the commands at message boundaries leaves that only the few
// instructions between a header and its body.
// TestAConnectionDropInABacklogDoesNotAbort reproduces the abort without
// it.
func recvMessage(sock *zmq.Socket) (frames [][]byte, ok bool) {
	if ev, err := sock.GetEvents(); err != nil || ev&zmq.POLLIN == 0 {
		return nil, false
	}
	frames, err := sock.RecvMessageBytes(zmq.DONTWAIT)
	return frames, err == nil
}
