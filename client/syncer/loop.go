package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/client/replica"
	"shoplist/protocol"
)

// recvBatch is how many messages the loop takes from one socket before it
// looks at the others.
const recvBatch = 64

// loop is the engine's state. Everything in it belongs to the one goroutine
// that runs run: no field is touched from anywhere else, so nothing here is
// locked.
type loop struct {
	e     *Engine
	cfg   Config
	store *replica.Store
	log   *slog.Logger
	bell  *zmq.Socket // doorbell PULL end

	poller      *zmq.Poller
	pollerStale bool // the sockets changed since poller was built
	now         time.Time

	conn // the connection to a proxy (conn.go)

	lists       map[uuid.UUID]*list                // every local list, by ID
	byTopic     map[[protocol.TopicSize]byte]*list // every local list, by its live updates' topic
	gen         uint64                             // Store.Generation when lists was last loaded
	nextGenPoll time.Time
	nextRepull  time.Time // next pull of every list, while online
	pullSeq     uint64    // numbers pulls as they are sent, for waiters
	joins       []*joinReq
	waiters     []*waiter
	storeErr    error // the last replica failure, for Status.LastErr
}

// list is the engine's state for one local list.
type list struct {
	id         uuid.UUID
	live       *protocol.LiveKey // its live updates' topic and key, derived from id
	pending    bool              // the replica has unpushed parts (as of the last read)
	seed       bool              // the cluster does not know the list: push it whole
	subscribed bool              // its topic is set on the current SUB socket
	needPush   bool              // look for unpushed parts and push them
	needPull   bool              // pull it
	pushing    uint64            // request ID of the push in flight, 0 if none
	pulling    uint64            // request ID of the pull in flight, 0 if none
	pulledSeq  uint64            // pullSeq of the last successful pull
	// pulledNow: a pull succeeded on this connection. Pushes wait for it,
	// so that the cluster's state is merged (crdt.List.MergeComplete)
	// before anything the cluster forgot while this replica was away can
	// be pushed back.
	pulledNow bool
	retryAt   time.Time // after a failure: no request before then
	backoff   time.Duration
	pushErr   failure // the last push failure, cleared by a successful push
	pullErr   failure // the last pull failure, cleared by a successful pull
}

// failure is an error and when it happened.
type failure struct {
	err error
	at  time.Time
}

// joinReq is a Join waiting for its answer.
type joinReq struct {
	id     uuid.UUID
	ctx    context.Context
	result chan error // buffered; receives exactly one value
	sent   uint64     // request ID of its pull in flight, 0 if none
}

// waiter is a WaitSynced waiting for its lists.
type waiter struct {
	ids    []uuid.UUID
	ctx    context.Context
	result chan error // buffered; receives exactly one value
	seq    uint64     // pullSeq when it began: later pulls count
}

func newLoop(e *Engine) *loop {
	l := &loop{
		e:       e,
		cfg:     e.cfg,
		store:   e.cfg.Store,
		log:     e.cfg.Logger,
		bell:    e.bell.Socket(),
		lists:   map[uuid.UUID]*list{},
		byTopic: map[[protocol.TopicSize]byte]*list{},
	}
	l.conn.init(e.cfg)
	return l
}

// run is the poll loop. It returns nil when ctx is done, or the error that
// made polling impossible.
func (l *loop) run(ctx context.Context) error {
	defer l.closeAll()
	l.now = time.Now()
	l.rescan()
	l.pollerStale = true
	for ctx.Err() == nil {
		l.tick()
		l.pump()
		l.checkWaiters()
		l.publish()
		if l.pollerStale {
			l.buildPoller()
		}
		polled, err := l.poller.Poll(l.timeout())
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINTR) {
				continue
			}
			l.log.Error("sync engine stopped: poll failed", "err", err)
			return fmt.Errorf("syncer: poll: %w", err)
		}
		l.now = time.Now()
		for _, p := range polled {
			switch {
			case p.Socket == l.bell:
				l.e.bell.Drain()
			case l.dealer != nil && p.Socket == l.dealer:
				l.drain(l.dealer, l.onReply)
			case l.sub != nil && p.Socket == l.sub:
				l.drain(l.sub, l.onLive)
			case l.subMon != nil && p.Socket == l.subMon:
				l.onSubEvents()
			}
		}
		l.runCommands()
	}
	l.failWaiters(ErrClosed)
	return nil
}

// closeAll closes every socket the loop owns.
func (l *loop) closeAll() {
	l.closeSockets()
	l.bell.SetLinger(0)
	l.bell.Close()
}

// buildPoller polls the sockets open now.
func (l *loop) buildPoller() {
	l.poller = zmq.NewPoller()
	l.poller.Add(l.bell, zmq.POLLIN)
	if l.dealer != nil {
		l.poller.Add(l.dealer, zmq.POLLIN)
	}
	if l.sub != nil {
		l.poller.Add(l.sub, zmq.POLLIN)
		l.poller.Add(l.subMon, zmq.POLLIN)
	}
	l.pollerStale = false
}

// drain receives up to recvBatch messages from s without blocking. It stops
// early if s is closed by handle (a failed connection).
func (l *loop) drain(s *zmq.Socket, handle func([][]byte)) {
	for range recvBatch {
		if s != l.dealer && s != l.sub {
			return
		}
		frames, err := s.RecvMessageBytes(zmq.DONTWAIT)
		if err != nil {
			if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
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
		case cmd := <-l.e.cmds:
			cmd(l)
		default:
			return
		}
	}
}

// tick runs the timers: reconnection, liveness, request deadlines, the
// Generation poll and the periodic re-pull.
func (l *loop) tick() {
	l.tickConn()
	if !l.now.Before(l.nextGenPoll) {
		l.pollGeneration()
		l.nextGenPoll = l.now.Add(l.cfg.Poll)
	}
	if l.state == Online && !l.now.Before(l.nextRepull) {
		for _, ls := range l.lists {
			ls.needPull = true
		}
		l.nextRepull = l.now.Add(l.cfg.Repull)
	}
}

// timeout is how long Poll may wait: until the next timer.
func (l *loop) timeout() time.Duration {
	next := l.nextGenPoll
	if t, ok := l.connDeadline(); ok && t.Before(next) {
		next = t
	}
	if l.state == Online {
		next = earliest(next, l.nextRepull)
		for _, ls := range l.lists {
			if (ls.needPush || ls.needPull || ls.seed) && ls.retryAt.After(l.now) {
				next = earliest(next, ls.retryAt)
			}
		}
	}
	wait := next.Sub(l.now)
	if wait < 0 {
		return 0
	}
	return wait + time.Millisecond // poll's resolution is a millisecond
}

// earliest returns the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// status computes the status the loop is in.
func (l *loop) status() Status {
	st := Status{Conn: l.state, Proxy: l.endpoint}
	if l.cfg.Offline {
		st.Proxy = ""
	}
	for _, ls := range l.lists {
		if ls.pending || ls.seed {
			st.Pending++
		}
		if l.state == Online && (ls.pushing != 0 || ls.pulling != 0 || ls.needPull || ls.seed || ls.needPush && ls.pending) {
			st.Syncing = true
		}
	}
	if l.state == Online && len(l.joins) > 0 {
		st.Syncing = true
	}
	if err := l.lastErr(); err != nil {
		st.LastErr = err.Error()
	}
	return st
}

// lastErr is the error Status shows: a failure of the local replica, else
// (while not online) why the connection failed, else the latest failure of
// a list's push or pull, else a clock-skew warning.
func (l *loop) lastErr() error {
	switch {
	case l.storeErr != nil:
		return l.storeErr
	case l.state != Online && l.connErr != nil:
		return l.connErr
	}
	var latest failure
	for _, ls := range l.lists {
		for _, f := range []failure{ls.pushErr, ls.pullErr} {
			if f.err != nil && (latest.err == nil || f.at.After(latest.at)) {
				latest = f
			}
		}
	}
	if latest.err != nil {
		return latest.err
	}
	return l.skewErr
}

// publish hands the status to the Engine and announces a change.
func (l *loop) publish() {
	st := l.status()
	if l.e.publish(st, l.lastErr()) {
		l.e.events.push(Event{Kind: StatusChanged})
	}
}

// emit queues an event for the reader.
func (l *loop) emit(ev Event) { l.e.events.push(ev) }
