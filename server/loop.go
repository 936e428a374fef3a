package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// batch is how many messages the loop reads from one socket before it
// looks at the others again.
const batch = 256

// drainWait is how long the loop, stopping, waits for a worker's reply
// before it checks whether any worker is still running.
const drainWait = 50 * time.Millisecond

// loop is the socket loop's state. It belongs to the loop goroutine (run),
// which owns every socket in it: the PULL socket that workers' replies and
// the waker's nudge arrive on, and each proxy link's DEALER.
type loop struct {
	s      *Server
	pull   *zmq.Socket
	links  []*link
	poller *zmq.Poller
	dirty  bool // the poller no longer matches the sockets and events wanted
	byes   int  // workers that said they stopped
}

// run is the loop goroutine. It binds the reply socket and connects to every
// proxy, reports on ready, then serves until ctx is done or polling fails,
// and finally waits for the workers' last replies.
func (s *Server) run(ctx context.Context, ready chan<- error) {
	defer close(s.loopDone)
	l, err := s.newLoop()
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

// newLoop creates the loop's sockets.
func (s *Server) newLoop() (*loop, error) {
	l := &loop{s: s, dirty: true}
	pull, err := zmq.NewSocket(zmq.PULL)
	if err == nil {
		l.pull = pull
		err = pull.SetLinger(0)
	}
	if err == nil {
		err = pull.Bind(s.replyAddr)
	}
	now := time.Now()
	for i, ep := range s.cfg.Proxies {
		if err != nil {
			break
		}
		lk := &link{index: i, endpoint: ep}
		if err = lk.connect(s.id, now); err == nil {
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
		if lk.sock != nil {
			lk.sock.Close()
			lk.sock = nil
		}
	}
	if l.pull != nil {
		l.pull.Close()
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
		if l.dirty {
			l.rebuildPoller()
		}
		// Poll takes whole milliseconds: round up, or a timer due in
		// under 1ms would spin.
		wait := max(time.Until(next), 0)
		wait = (wait + time.Millisecond - 1).Truncate(time.Millisecond)
		polled, err := l.poller.Poll(wait)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINTR) { // a signal: poll again
				continue
			}
			return fmt.Errorf("server: polling: %w", err)
		}
		for _, p := range polled {
			if p.Socket == l.pull {
				l.readReplies(zmq.DONTWAIT)
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
	}
	return nil
}

// rebuildPoller polls the reply socket and each connected link: for input,
// and for output too while a hello is due (a writable DEALER with IMMEDIATE
// means the connection is up).
func (l *loop) rebuildPoller() {
	l.poller = zmq.NewPoller()
	l.poller.Add(l.pull, zmq.POLLIN)
	for _, lk := range l.links {
		if lk.sock == nil {
			continue
		}
		events := zmq.POLLIN
		if lk.helloDue {
			events |= zmq.POLLOUT
		}
		l.poller.Add(lk.sock, events)
	}
	l.dirty = false
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

// readLink reads what a proxy sent, up to a batch.
func (l *loop) readLink(lk *link) {
	for range batch {
		frames, err := lk.sock.RecvMessageBytes(zmq.DONTWAIT)
		if err != nil {
			return // EAGAIN: nothing more for now
		}
		now := time.Now()
		lk.lastRecv = now
		l.dispatch(lk, frames, now)
	}
}

// readReplies reads what the workers and the waker sent, up to a batch, and
// forwards each reply to the connection its request came on. flags is
// DONTWAIT while serving; 0 while draining, with a receive timeout set.
func (l *loop) readReplies(flags zmq.Flag) error {
	for range batch {
		frames, err := l.pull.RecvMessageBytes(flags)
		if err != nil {
			return err
		}
		if len(frames) == 1 {
			if string(frames[0]) == byeFrame {
				l.byes++
			}
			continue // or the waker's nudge: the loop checks ctx anyway
		}
		if len(frames) != 3 || len(frames[0]) != routeLen {
			continue // only workers write here
		}
		i := int(binary.BigEndian.Uint32(frames[0]))
		gen := binary.BigEndian.Uint64(frames[0][4:])
		lk := l.links[i]
		if lk.gen != gen || lk.sock == nil {
			// The request came on a connection since closed; its
			// request ID means nothing to whoever is there now.
			continue
		}
		if err := lk.sendFrames(frames[1:], time.Now()); err != nil {
			l.s.log.warn("reply-dropped", "server: reply dropped; the proxy will time the request out", "err", err)
		}
	}
	return nil
}

// drain runs once the loop stops serving: it closes the job queue and
// forwards the workers' last replies until every worker has stopped.
func (l *loop) drain() {
	close(l.s.jobs)
	if err := l.pull.SetRcvtimeo(drainWait); err != nil {
		l.s.cfg.Logger.Error("server: cannot wait for the workers' last replies", "err", err)
		return
	}
	for l.byes < l.s.cfg.Workers {
		err := l.readReplies(0)
		if err == nil {
			continue
		}
		switch errno := zmq.AsErrno(err); {
		case errno == zmq.Errno(syscall.EINTR):
		case errno != zmq.Errno(syscall.EAGAIN) || l.s.workersLeft.Load() == 0:
			return
		}
	}
}

// wake is the waker goroutine: once ctx is done it nudges the loop out of
// its poll through a PUSH socket of its own, so that Close does not wait for
// a poll timeout. It keeps the socket until the loop has returned.
func (s *Server) wake(ctx context.Context) {
	<-ctx.Done()
	sock, err := zmq.NewSocket(zmq.PUSH)
	if err != nil {
		return // the loop notices at its next timer
	}
	defer sock.Close()
	if sock.SetLinger(0) == nil && sock.Connect(s.replyAddr) == nil {
		sock.SendBytes(nil, zmq.DONTWAIT)
	}
	<-s.loopDone
}
