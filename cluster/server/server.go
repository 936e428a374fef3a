package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"shoplist/internal/curvekey"
	"shoplist/internal/doorbell"
	"shoplist/protocol"
	"shoplist/storage"
)

// Server is a running storage server. See the package documentation for
// how its goroutines divide the work.
type Server struct {
	cfg     Config
	id      string
	key     curvekey.Pair // its CURVE key pair; zero with an insecure backend
	store   *storage.Store
	log     *rateLog
	replies *replyQueue // set by start

	// epoch is the latest ring epoch adopted (from EpochAnnounce): written
	// by the loop, read by workers to stamp replies.
	epoch atomic.Uint64
	// jobs carries batches of requests from the loop to the workers. The
	// loop is its only sender and closes it when it stops (Start does, if
	// the loop never started).
	jobs chan []job
	// queued counts the requests in jobs: the loop adds, workers take
	// away as they take a batch.
	queued atomic.Int64
	// ring is the ring of the latest adopted epoch (nil before the first
	// EpochAnnounce): written by the loop, read by the handoff goroutine
	// and the workers.
	ring atomic.Pointer[ownerRing]
	// rebalanced is the ring of the last complete rebalance pass (nil
	// before the first): only the handoff goroutine touches it.
	rebalanced *ownerRing
	// stats are running totals, updated by whoever does the work.
	stats counters
	// mem counts the bytes of requests and replies held (budget.go), by
	// the loop, the workers and the handoff goroutine.
	mem memBudget
	// refusals counts the failed handshakes with proxies (monitor.go).
	refusals atomic.Uint64
	// kick asks the handoff goroutine for a round now; handoffResults
	// carries the outcome of each Handoff from the loop to it.
	kick           chan struct{}
	handoffResults chan handoffResult
	// workersLeft counts workers that have not returned yet, so the loop
	// knows when no reply can come any more.
	workersLeft atomic.Int32

	cancel   context.CancelFunc
	wg       sync.WaitGroup // the loop, the workers, the doorbell and the handoff goroutine
	loopDone chan struct{}  // closed when the loop has returned
	loopErr  error          // why the loop failed, if it did; read after loopDone

	closeOnce sync.Once
	closeErr  error
}

// Start opens the store in cfg.Dir, loads or creates the server ID, starts
// the workers and the socket loop, and returns once the loop has bound its
// sockets and connected to every proxy (not once a proxy has welcomed it:
// that happens, and happens again after each reconnection, in the
// background). The server serves until ctx is done or Close is called;
// either way the caller calls Close, which releases the store.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// A server is one of N replicas of its lists: it heals what it cannot
	// read and starts over on an empty store rather than stay down, and the
	// other owners make it whole again (storage/heal.go, storage/aside.go).
	store, err := storage.Open(cfg.Dir, storage.Options{Logger: cfg.Logger, Owner: "server", MaxHints: cfg.MaxHints,
		CacheSize: blockCache(cfg.Cache), EncodedCacheSize: encodedCache(cfg.Cache),
		TombstoneHorizon: cfg.TombstoneHorizon, Now: cfg.Now, SelfHeal: true, SetAsideCorrupt: true})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	id, err := loadOrCreateID(cfg.Dir, cfg.ID)
	if err != nil {
		store.Close()
		return nil, err
	}
	var key curvekey.Pair
	if !cfg.InsecureBackend {
		if key, err = LoadOrCreateKey(cfg.Dir); err != nil {
			store.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{
		cfg:   cfg,
		id:    id,
		key:   key,
		store: store,
		log:   newRateLog(cfg.Logger.With("server", id)),
		jobs:  make(chan []job, cfg.Workers*queuePerWorker),
		kick:  make(chan struct{}, 1),

		handoffResults: make(chan handoffResult, handoffWindow),
		mem:            memBudget{limit: cfg.MemoryBudget},
		cancel:         cancel,
		loopDone:       make(chan struct{}),
	}
	if err := s.start(ctx); err != nil {
		cancel()
		s.wg.Wait()
		store.Close()
		return nil, err
	}
	cfg.Logger.Info("server started", "server", id, "dir", cfg.Dir, "proxies", cfg.Proxies, "workers", cfg.Workers,
		"key", key.Public, "key_file", PublicKeyFile(cfg.Dir))
	if cfg.InsecureBackend {
		cfg.Logger.Warn("connecting to the proxies without CURVE (for benchmarks only)", "server", id)
	}
	if a := store.Aside(); a != nil {
		cfg.Logger.Error("server started on an empty store: its corrupt store was set aside; the other owners refill its ranges",
			"server", id, "aside", a.Dir, "err", a.Cause)
	}
	return s, nil
}

// setAside returns where the store's corrupt files went when the server
// started on an empty store, or "".
func (s *Server) setAside() string {
	if a := s.store.Aside(); a != nil {
		return a.Dir
	}
	return ""
}

// PublicKey returns the server's CURVE public key, which a proxy must
// admit under its ID; "" with an insecure backend.
func (s *Server) PublicKey() string { return s.key.Public }

// start starts the workers, the doorbell and the loop. On error nothing it
// started is left running once s.wg is waited for.
func (s *Server) start(ctx context.Context) error {
	bell, err := doorbell.New("server")
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.replies = newReplyQueue(bell.Ring)
	s.workersLeft.Store(int32(s.cfg.Workers))
	for range s.cfg.Workers {
		s.wg.Go(func() { s.work(ctx) })
	}
	// The doorbell rings once when ctx ends, to get the loop out of its
	// poll, and goes on ringing (the loop forwards the workers' last
	// replies while it drains) until the loop has returned.
	s.wg.Go(func() { bell.RunUntil(ctx, s.loopDone) })
	ready := make(chan error, 1)
	s.wg.Go(func() { s.run(ctx, bell.Socket(), ready) })
	if err := <-ready; err != nil {
		close(s.jobs)
		return err
	}
	s.wg.Go(func() { s.handoffLoop(ctx) })
	return nil
}

// ID returns the server's persistent ID.
func (s *Server) ID() string { return s.id }

// Store returns the server's store, for tests to inspect. Writing to it
// behind the server's back is allowed (it is safe for concurrent use) but
// bypasses the skew guard.
func (s *Server) Store() *storage.Store { return s.store }

// Close stops the server: the loop stops reading requests, the workers
// finish the ones they hold (their replies still go out, best effort) and
// answer the queued ones "shutting down", then the store closes. It waits
// for every goroutine and returns the store's close error. Closing twice
// does nothing more.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		if err := s.store.Close(); err != nil {
			s.closeErr = fmt.Errorf("server: %w", err)
		}
	})
	return s.closeErr
}

// failed returns a channel closed when the socket loop has stopped, and the
// reason it gives if it stopped on its own; read the error only after the
// channel is closed.
func (s *Server) failed() (<-chan struct{}, func() error) {
	return s.loopDone, func() error { return s.loopErr }
}

// stamp sets a reply's header epoch to the server's current epoch, as every
// reply carries it.
func (s *Server) stamp(m protocol.Message) protocol.Message {
	m.Epoch = s.epoch.Load()
	return m
}
