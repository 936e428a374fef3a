package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// recvBatch is how many messages the loop takes from one socket before it
// looks at the others, so a flood on one socket cannot starve the rest.
const recvBatch = 256

// loop is the proxy's state. Everything in it belongs to the one goroutine
// that runs run: no field is touched from anywhere else, so nothing here is
// locked.
type loop struct {
	cfg       Config
	log       *slog.Logger
	endpoints Endpoints

	client  *zmq.Socket // ROUTER for clients' DEALERs
	pub     *zmq.Socket // PUB for live updates
	backend *zmq.Socket // ROUTER for servers' DEALERs
	bell    *zmq.Socket // doorbell PULL end
	poller  *zmq.Poller

	ctx       context.Context // the loop's; set by run
	wg        *sync.WaitGroup // goroutines Close waits for
	cmds      chan command    // work queued by other goroutines
	wake      func()          // rings the doorbell
	members   Membership
	view      View
	published *atomic.Pointer[View] // view, for Proxy.Owners

	servers map[string]*peer  // servers that said hello, by ID
	joining map[string]bool   // servers whose Join is in progress
	calls   map[uint64]call   // backend requests awaiting a reply, by request ID
	queue   deadlineQueue     // ops in deadline order
	active  int               // client requests in progress
	writing map[uuid.UUID]int // pushes in progress, by list (see repair)
	nextID  uint64            // last backend request ID used

	announced    announcement         // the current epoch's EpochAnnounce (epochs.go)
	leavingSince map[string]uint64    // epoch at which each leaving member was first seen leaving
	leaderSince  time.Time            // when this proxy became leader; zero while it is not (removal.go)
	removing     map[string]bool      // removals of dead or drained members in progress
	retryRemove  map[string]time.Time // failed removals: not retried before then

	bad       badPeers
	now       time.Time // time of the current iteration
	nextSweep time.Time // next liveness sweep
	stats     stats
	ae        antiEntropy // anti-entropy coordinator (antientropy.go)
}

// stats counts what the loop did, for its log and tests.
type stats struct {
	pushes, pulls, failed, published, repairs, repairsSkipped uint64
	hinted, handoffs, handoffsFailed                          uint64
	announced, staleEpoch, reports, removals                  uint64
}

// announcement is the EpochAnnounce of one epoch, encoded once.
type announcement struct {
	epoch uint64
	msg   protocol.Message
	ok    bool // msg is valid; false if the view could not be encoded
}

// newLoop binds the sockets.
func newLoop(cfg Config) (*loop, error) {
	client, pub, backend, eps, err := bindSockets(cfg)
	if err != nil {
		return nil, err
	}
	l := &loop{
		cfg:       cfg,
		log:       cfg.Logger,
		endpoints: eps,
		client:    client,
		pub:       pub,
		backend:   backend,
		members:   cfg.Membership,
		view:      cfg.Membership.View(),
		servers:   map[string]*peer{},
		joining:   map[string]bool{},
		calls:     map[uint64]call{},
		writing:   map[uuid.UUID]int{},

		leavingSince: map[string]uint64{},
		removing:     map[string]bool{},
		retryRemove:  map[string]time.Time{},
	}
	l.trackLeaving()
	return l, nil
}

// close closes every socket the loop owns.
func (l *loop) close() {
	for _, s := range []*zmq.Socket{l.client, l.pub, l.backend, l.bell} {
		if s != nil {
			s.SetLinger(0)
			s.Close()
		}
	}
}

// run is the poll loop. It returns nil when ctx is done, or the error that
// made polling impossible.
func (l *loop) run(ctx context.Context) error {
	defer l.close()
	l.ctx = ctx
	l.poller = zmq.NewPoller()
	l.poller.Add(l.client, zmq.POLLIN)
	l.poller.Add(l.backend, zmq.POLLIN)
	l.poller.Add(l.bell, zmq.POLLIN)
	l.now = time.Now()
	l.nextSweep = l.now.Add(l.sweepEvery())
	for ctx.Err() == nil {
		polled, err := l.poller.Poll(l.timeout())
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINTR) { // a signal: poll again
				continue
			}
			return fmt.Errorf("proxy: poll: %w", err)
		}
		l.now = time.Now()
		for _, p := range polled {
			switch p.Socket {
			case l.client:
				l.drain(l.client, l.onClient)
			case l.backend:
				l.drain(l.backend, l.onBackend)
			case l.bell:
				l.drain(l.bell, func([][]byte) {})
			}
		}
		l.runCommands()
		l.refreshView()
		l.expire()
		l.antiEntropyTick()
		if !l.now.Before(l.nextSweep) {
			l.sweep()
			l.nextSweep = l.now.Add(l.sweepEvery())
		}
	}
	l.log.Info("proxy stopped", "pushes", l.stats.pushes, "pulls", l.stats.pulls,
		"failed", l.stats.failed, "published", l.stats.published, "repairs", l.stats.repairs,
		"repairs_skipped", l.stats.repairsSkipped, "hinted_stores", l.stats.hinted,
		"handoffs", l.stats.handoffs, "handoffs_failed", l.stats.handoffsFailed)
	return nil
}

// drain receives up to recvBatch messages from s without blocking.
func (l *loop) drain(s *zmq.Socket, handle func([][]byte)) {
	for range recvBatch {
		frames, err := s.RecvMessageBytes(zmq.DONTWAIT)
		if err != nil {
			if !isAgain(err) {
				l.log.Warn("receive failed", "err", err)
			}
			return
		}
		handle(frames)
	}
}

// runCommands runs the commands other goroutines have queued.
func (l *loop) runCommands() {
	for {
		select {
		case cmd := <-l.cmds:
			cmd(l)
		default:
			return
		}
	}
}

// timeout is how long Poll may wait: until the next deadline or sweep.
func (l *loop) timeout() time.Duration {
	next := l.nextSweep
	if d, ok := l.queue.next(); ok && d.Before(next) {
		next = d
	}
	if d, ok := l.antiEntropyDeadline(); ok && d.Before(next) {
		next = d
	}
	wait := time.Until(next)
	if wait < 0 {
		return 0
	}
	return wait + time.Millisecond // poll's resolution is a millisecond
}

// sweepEvery is the period of liveness sweeps: often enough that a silent
// server is marked down within a fraction of an interval of its deadline.
func (l *loop) sweepEvery() time.Duration { return l.cfg.Heartbeat / 4 }

// isAgain reports whether err is EAGAIN: nothing to receive, or a send
// queue is full.
func isAgain(err error) bool { return zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) }

// spawn runs fn on a goroutine of its own, which Close waits for.
func (l *loop) spawn(fn func(context.Context)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn(l.ctx)
	}()
}

// post queues cmd for the loop; it is dropped if ctx ends first.
func (l *loop) post(ctx context.Context, cmd command) {
	select {
	case l.cmds <- cmd:
		l.wake()
	case <-ctx.Done():
	}
}
