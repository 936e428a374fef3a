package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
	"shoplist/testing/ledger"
)

// endpoint returns the proxy endpoint i of Config.Proxy, modulo their
// count.
func (c Config) endpoint(i int) string {
	eps := strings.Split(c.Proxy, ",")
	return strings.TrimSpace(eps[i%len(eps)])
}

// Config configures a benchmark run against a running proxy.
type Config struct {
	// Proxy is the proxies' client endpoints, comma-separated, each
	// tcp://HOST:PORT#KEY (or without a key, for proxies without CURVE):
	// client i uses endpoint i mod n, subscriber s endpoint s+1 mod n, so
	// that with several proxies most live updates cross from one proxy to
	// another.
	Proxy       string
	Clients     int           // simulated clients (M)
	Duration    time.Duration // measured load time
	Warmup      time.Duration // load before measuring; its writes are verified too
	Timeout     time.Duration // per request
	Items       int           // items per load list (K)
	Lists       int           // load lists (L)
	Shared      float64       // fraction of the load lists shared by households
	Group       int           // clients per household
	Mix         float64       // fraction of operations that are pushes
	Stored      int           // lists stored in total, load lists included
	Subscribers int           // live-update subscribers
	Raw         bool          // measure the raw ZeroMQ ceiling first
	FullPulls   bool          // pulls without a PullBody: every one answered with the whole state
	Log         io.Writer     // progress lines; nil: quiet
}

// ErrConfig means a Config field is out of range.
var ErrConfig = errors.New("loadgen: invalid configuration")

// storedItems is the size of each preloaded stored list: small, since they
// are there to fill the stores, not to be worked on.
const storedItems = 3

// Pipelined setup: sockets and requests in flight per socket.
const (
	setupWorkers = 8
	setupWindow  = 32
)

// liveGrace is how long subscribers wait for straggling live updates once
// the load has stopped.
const liveGrace = time.Second

func (c Config) check() error {
	switch {
	case c.Clients < 1, c.Items < 1, c.Lists < 1, c.Group < 1, c.Subscribers < 0, c.Stored < 0:
		return fmt.Errorf("%w: clients, items, lists and group must be at least 1; subscribers and stored at least 0", ErrConfig)
	case c.Items > crdt.MaxItems:
		return fmt.Errorf("%w: at most %d items per list", ErrConfig, crdt.MaxItems)
	case c.Duration <= 0, c.Warmup < 0, c.Timeout <= 0:
		return fmt.Errorf("%w: duration and timeout must be positive, warm-up not negative", ErrConfig)
	case c.Mix < 0 || c.Mix > 1 || c.Shared < 0 || c.Shared > 1:
		return fmt.Errorf("%w: mix and shared are fractions between 0 and 1", ErrConfig)
	}
	return nil
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run runs the benchmark: the raw ceiling if asked, the setup (load lists,
// then the preloaded stored lists), the subscribers, the load, and the
// verification by quorum reads. It returns an error only when the run
// could not be carried out; lost writes are in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Proxy == "" {
		return nil, fmt.Errorf("%w: no proxy endpoint", ErrConfig)
	}
	res := &Result{Clients: cfg.Clients, Duration: cfg.Duration, Errors: map[string]int{}}
	if cfg.Raw {
		raw, err := runRaw(ctx, cfg)
		if err != nil {
			return nil, err
		}
		res.Raw = raw
	}
	w, err := setup(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := w.load(ctx, cfg, res); err != nil {
		return nil, err
	}
	cfg.logf("verify: reading %d lists back", len(w.ledger.Lists())+len(w.stored))
	v, err := verify(ctx, cfg, w.ledger, w.stored, w.storedBy)
	if err != nil {
		return nil, err
	}
	res.Verdict = v
	return res, nil
}

// runRaw measures the ceiling with the same clients, timing and messages.
func runRaw(ctx context.Context, cfg Config) (*RawResult, error) {
	cfg.logf("raw: %d clients for %v (+%v warm-up)", cfg.Clients, cfg.Duration, cfg.Warmup)
	c := crdt.NewClock(uuid.New())
	names, _ := itemNames(cfg.Items)
	l, err := newList(c, "raw", names)
	if err != nil {
		return nil, err
	}
	prev := l.MaxStamp()
	if err := l.Add(c, names[0], 1); err != nil {
		return nil, fmt.Errorf("loadgen: raw delta: %w", err)
	}
	frames := protocol.NewPush(1, l.ID(), l.Delta(prev).Encode()).Frames()
	return RunRaw(ctx, RawConfig{Clients: cfg.Clients, Duration: cfg.Duration, Warmup: cfg.Warmup, Timeout: cfg.Timeout, Frames: frames})
}

// world is the benchmark's state after setup.
type world struct {
	loadLists []uuid.UUID      // load list IDs, by index
	clients   []*client        // each with its local replicas
	ledger    *ledger.Counters // setup writes (clients and subscribers add theirs)
	stored    []uuid.UUID      // preloaded lists, all acknowledged
	storedBy  uuid.UUID        // the replica that wrote the preloaded lists
}

// setup creates the load lists, each by its creator's replica, pushes them,
// gives every client its own copy of the lists it works on, and preloads
// the stored lists.
func setup(ctx context.Context, cfg Config) (*world, error) {
	y := newLayout(cfg.Clients, cfg.Group, cfg.Lists, cfg.Shared)
	names, keys := itemNames(cfg.Items)
	w := &world{ledger: ledger.NewCounters()}
	clocks := newClocks(cfg.Clients)
	lists := make([]*crdt.List, cfg.Lists)
	for j := range lists {
		l, err := newList(clocks[y.creatorOf(j)], fmt.Sprintf("bench list %d", j), names)
		if err != nil {
			return nil, err
		}
		lists[j] = l
		w.loadLists = append(w.loadLists, l.ID())
		w.ledger.AttemptList(l)
	}
	p := pipeline{endpoint: cfg.endpoint(0), timeout: cfg.Timeout, workers: setupWorkers, window: setupWindow, progress: cfg.Log, what: "setup"}
	acked := make([]bool, len(lists))
	err := p.run(ctx, len(lists), func(j int) job {
		return pushJob(lists[j].ID(), lists[j].Encode(), func() { acked[j] = true })
	})
	if err != nil {
		return nil, err
	}
	for j, l := range lists {
		if acked[j] {
			w.ledger.AckList(l)
		}
	}
	for i := range cfg.Clients {
		cl := &client{clock: clocks[i], items: items{names, keys}, mix: cfg.Mix, ledger: ledger.NewCounters(), failures: map[string]int{},
			fullPulls: cfg.FullPulls, known: map[uuid.UUID]uint64{},
			rng: rand.New(rand.NewPCG(rand.Uint64(), uint64(i)))}
		for _, j := range y.listsOf(i) {
			cl.lists = append(cl.lists, lists[j].Clone())
		}
		w.clients = append(w.clients, cl)
	}
	if extra := cfg.Stored - cfg.Lists; extra > 0 {
		if w.stored, w.storedBy, err = preload(ctx, cfg, extra); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// preload pushes n small lists, pipelined, and returns their IDs and the
// replica that wrote them.
func preload(ctx context.Context, cfg Config, n int) ([]uuid.UUID, uuid.UUID, error) {
	ids := make([]uuid.UUID, n)
	c := crdt.NewClock(uuid.New())
	names, _ := itemNames(storedItems)
	p := pipeline{endpoint: cfg.endpoint(0), timeout: cfg.Timeout, workers: setupWorkers, window: setupWindow, progress: cfg.Log, what: "preload"}
	err := p.run(ctx, n, func(i int) job {
		l, err := newList(c, fmt.Sprintf("stored %d", i), names)
		if err != nil {
			panic(err) // fixed, valid names: cannot fail
		}
		ids[i] = l.ID()
		return pushJob(l.ID(), l.Encode(), func() {})
	})
	return ids, c.Replica(), err
}

// load starts the subscribers, waits until each has seen its probe come
// back live, runs the clients, and collects their figures into res.
func (w *world) load(ctx context.Context, cfg Config, res *Result) error {
	pend := newPending()
	subs := make([]*subscriber, cfg.Subscribers)
	for s := range subs {
		var mine []uuid.UUID
		for j := s; j < len(w.loadLists); j += len(subs) {
			mine = append(mine, w.loadLists[j])
		}
		subs[s] = &subscriber{proxy: cfg.endpoint(s + 1), timeout: cfg.Timeout, lists: mine, pending: pend, clock: crdt.NewClock(uuid.New()), ledger: ledger.NewCounters()}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	var subsDone sync.WaitGroup
	for _, s := range subs {
		ready := make(chan struct{})
		subsDone.Go(func() {
			if err := s.run(ctx, ready, stop, liveGrace); err != nil {
				cancel(err)
			}
		})
		select {
		case <-ready:
		case <-ctx.Done():
			subsDone.Wait()
			return context.Cause(ctx)
		}
	}

	cfg.logf("load: %d clients, %d lists, mix %.2f push, for %v (+%v warm-up)", cfg.Clients, cfg.Lists, cfg.Mix, cfg.Duration, cfg.Warmup)
	start := time.Now()
	measureFrom, end := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	var clients sync.WaitGroup
	for i, cl := range w.clients {
		cl.pending = pend
		clients.Go(func() {
			c, err := dealer.DialConn(cfg.endpoint(i), cfg.Timeout)
			if err != nil {
				cancel(err)
				return
			}
			defer c.Close()
			cl.conn = c
			if err := cl.run(ctx, measureFrom, end); err != nil {
				cancel(err)
			}
		})
	}
	clients.Wait()
	close(stop)
	subsDone.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}

	var push, pull, live Histogram
	for _, cl := range w.clients {
		push.Merge(&cl.push)
		pull.Merge(&cl.pull)
		w.ledger.Add(cl.ledger)
		for k, n := range cl.failures {
			res.Errors[k] += n
		}
		res.Unchanged += cl.unchanged
	}
	for _, s := range subs {
		live.Merge(&s.hist)
		w.ledger.Add(s.ledger)
	}
	res.Push, res.Pull, res.Live = push, pull, live
	res.LiveMissed = pend.missed()
	return nil
}
