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

	"shoplist/cluster/antientropy"
	"shoplist/cluster/placement"
	"shoplist/cluster/removal"
	"shoplist/internal/curvekey"
	"shoplist/internal/zpoll"
	"shoplist/protocol"
)

// recvBatch is how many messages the loop takes from one socket before it
// looks at the others, so a flood on one socket cannot starve the rest.
const recvBatch = 256

// loop is the proxy's state. Everything in it belongs to the one goroutine
// that runs run: no field is touched from anywhere else, so nothing here is
// locked. Its fields are grouped by the concern that owns them.
type loop struct {
	cfg       Config
	log       *slog.Logger
	endpoints Endpoints
	now       time.Time // time of the current iteration

	sock  sockets   // the sockets it polls (sockets.go)
	gate  *gate     // the ZAP handler, for its counters; nil when no socket uses CURVE
	link  proxyLink // how it and the goroutines around it reach each other
	ring  ringState // the membership and the view it routes with (epochs.go)
	peers peerTable // the storage servers and their liveness (servers.go)
	ops   opTable   // the requests in progress and their calls (op.go)

	// The leader's duties (duties.go), each decided by a package of its
	// own and run on the loop.
	ae       *antientropy.Coordinator // anti-entropy rounds
	removals *removal.Decider         // removals of dead and drained members

	liveKeys *protocol.LiveKeys // the lists' keys that seal live updates (clients.go)
	subs     subscriptions      // the PUB's subscriptions, capped per client key
	relays   relays             // live updates to the other proxies (relay.go)
	outboxes []*peer            // servers with requests gathered this turn (outbox.go)
	zctx     *zmq.Context       // the proxy's, in which relays open

	mem      *memBudget    // the bytes held and queued, per account (budget.go)
	newLists *newListLimit // the clients' new-list caps (newlists.go)
	budgetAt time.Time     // when the budget's periodic work is next due (accounting.go)

	bad   badPeers // bad input, logged at a bounded rate (badpeers.go)
	stats stats    // what it did, for its log and Status
}

// liveKeyCache is how many lists' live-update keys the proxy keeps: a key
// costs a few microseconds to derive and a few hundred bytes to keep, so
// the lists being edited now are sealed without deriving anything.
const liveKeyCache = 16384

// proxyLink is how the loop and the goroutines of its Proxy reach each
// other; Start sets it before the loop runs.
type proxyLink struct {
	ctx       context.Context                 // the loop's; set by run
	wg        *sync.WaitGroup                 // goroutines Close waits for
	cmds      chan command                    // work queued by other goroutines
	wake      func()                          // rings the doorbell, whose PULL end the loop polls
	published *atomic.Pointer[placement.View] // the view, for Proxy.Owners
}

// stats counts what the loop did, for its log and tests.
type stats struct {
	pushes, pulls, failed, published, repairs, repairsSkipped, rereads uint64
	pulledPlain                                                        uint64
	hinted, handoffs, handoffsFailed                                   uint64
	announced, staleEpoch, rerouted, reports, removals                 uint64
	notAdmitted, relayed, unchanged                                    uint64
	liveTooLarge, repairsOverBudget, handoffsOverBudget                uint64
}

// newLoop binds the sockets in zctx.
func newLoop(cfg Config, zctx *zmq.Context) (*loop, error) {
	sock, eps, err := bindSockets(cfg, zctx)
	if err != nil {
		return nil, err
	}
	l := &loop{
		cfg:       cfg,
		log:       cfg.Logger,
		endpoints: eps,
		sock:      sock,
		ring: ringState{
			members: cfg.Membership,
			leader:  leaderOf(cfg.Membership),
			view:    cfg.Membership.View(),
		},
		peers: peerTable{byID: map[string]*peer{}, joining: map[string]bool{}},
		ops:   opTable{calls: map[uint64]call{}, writing: map[uuid.UUID]int{}},

		liveKeys: protocol.NewLiveKeys(liveKeyCache),
		subs:     subscriptions{max: cfg.MaxSubscriptions},
		relays:   relays{socks: map[string]*zmq.Socket{}},
		zctx:     zctx,
		mem:      newMemBudget(cfg.MemoryBudget, cfg.N),
		newLists: newNewListLimit(cfg.NewListsPerMinute),
	}
	if cfg.CurveSecretKey != "" {
		if l.relays.own, err = curvekey.FromSecret(cfg.CurveSecretKey); err != nil { // checked by withDefaults
			sock.close()
			return nil, err
		}
	}
	l.removals = removal.New(removal.Config{
		DeadAfter:  cfg.DeadAfter,
		RetryAfter: cfg.Heartbeat,
		Logger:     cfg.Logger,
	}, l.ring.leader)
	l.removals.Track(l.ring.view)
	l.ae = antientropy.New(antientropy.Config{
		Interval: cfg.AntiEntropyInterval,
		Timeout:  cfg.Timeout,
		N:        cfg.N,
		Logger:   cfg.Logger,
	}, aeHost{l})
	return l, nil
}

// run is the poll loop. It returns nil when ctx is done, or the error that
// made polling impossible.
func (l *loop) run(ctx context.Context) error {
	defer l.sock.close()
	defer l.relays.close()
	l.syncRelays(l.zctx)
	l.link.ctx = ctx
	poller, err := zpoll.New()
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	defer poller.Close()
	for _, s := range []*zmq.Socket{l.sock.client, l.sock.backend, l.sock.pub, l.sock.bell} {
		if err := poller.Add(s, zmq.POLLIN); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	l.now = time.Now()
	l.peers.nextSweep = l.now.Add(l.sweepEvery())
	for ctx.Err() == nil {
		polled, err := poller.Poll(l.timeout())
		if err != nil {
			return fmt.Errorf("proxy: poll: %w", err)
		}
		l.now = time.Now()
		for _, p := range polled {
			switch p.Socket {
			case l.sock.client:
				l.drainWithKey(l.sock.client, l.onClient)
			case l.sock.backend:
				l.drainWithKey(l.sock.backend, l.onBackend)
			case l.sock.pub:
				l.drainSubscriptions()
			case l.sock.bell:
				l.drain(l.sock.bell, func([][]byte) {})
			}
		}
		l.runCommands()
		l.refreshView()
		l.expire()
		l.sendAntiEntropy(l.ae.Tick(l.now, l.ring.view))
		l.aeSettle()
		if !l.now.Before(l.peers.nextSweep) {
			l.sweep()
			l.subs.expire(l.now)
			l.budgetSweep()
			l.peers.nextSweep = l.now.Add(l.sweepEvery())
		}
		l.flushOutboxes()
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

// drainWithKey receives up to recvBatch messages from s, a ROUTER, without
// blocking, and hands each to handle with the CURVE key of the connection
// it came on ("" without CURVE).
func (l *loop) drainWithKey(s *zmq.Socket, handle func(frames [][]byte, key string)) {
	for range recvBatch {
		frames, key, err := recvWithKey(s)
		if err != nil {
			if !isAgain(err) {
				l.log.Warn("receive failed", "err", err)
			}
			return
		}
		handle(frames, key)
	}
}

// runCommands runs the commands other goroutines have queued.
func (l *loop) runCommands() {
	for {
		select {
		case cmd := <-l.link.cmds:
			cmd(l)
		default:
			return
		}
	}
}

// timeout is how long Poll may wait: until the next deadline or sweep.
func (l *loop) timeout() time.Duration {
	next := l.peers.nextSweep
	if d, ok := l.ops.queue.next(); ok && d.Before(next) {
		next = d
	}
	if d, ok := l.ae.Deadline(); ok && d.Before(next) {
		next = d
	}
	return max(time.Until(next), 0)
}

// sweepEvery is the period of liveness sweeps: often enough that a silent
// server is marked down within a fraction of an interval of its deadline.
func (l *loop) sweepEvery() time.Duration { return l.cfg.Heartbeat / 4 }

// isAgain reports whether err is EAGAIN: nothing to receive, or a send
// queue is full.
func isAgain(err error) bool { return zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) }

// spawn runs fn on a goroutine of its own, which Close waits for.
func (l *loop) spawn(fn func(context.Context)) {
	l.link.wg.Add(1)
	go func() {
		defer l.link.wg.Done()
		fn(l.link.ctx)
	}()
}

// post queues cmd for the loop; it is dropped if ctx ends first.
func (l *loop) post(ctx context.Context, cmd command) {
	select {
	case l.link.cmds <- cmd:
		l.link.wake()
	case <-ctx.Done():
	}
}
