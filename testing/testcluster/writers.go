package testcluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
	"shoplist/testing/ledger"
)

// WriterConfig configures StartWriters. Zero fields take the defaults.
type WriterConfig struct {
	// Endpoints are the proxies' client endpoints (required). Client i
	// starts on endpoint i mod len and moves to the next one whenever a
	// request gets no reply in time.
	Endpoints []string
	Clients   int           // writing clients (default 10)
	Private   int           // lists of each client's own (default 2)
	Shared    int           // lists every client writes to (default 2)
	Items     int           // items per list (default 8)
	Timeout   time.Duration // per request (default 3s)
	// Pace is a client's pause after each push, so that a small machine
	// keeps CPU for the cluster (default 0: none).
	Pace time.Duration
}

func (c WriterConfig) withDefaults() (WriterConfig, error) {
	if len(c.Endpoints) == 0 {
		return c, errors.New("testcluster: writers: no proxy endpoint")
	}
	if c.Clients <= 0 {
		c.Clients = 10
	}
	if c.Private < 0 || c.Shared < 0 || c.Private+c.Shared == 0 {
		c.Private, c.Shared = 2, 2
	}
	if c.Items <= 0 {
		c.Items = 8
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	return c, nil
}

// WriteStats counts what writing clients did.
type WriteStats struct {
	Attempted int64 // pushes sent
	Acked     int64 // pushes the cluster acknowledged
	Refused   int64 // pushes answered by an Error (not acknowledged)
	TimedOut  int64 // pushes with no reply in time (not acknowledged)
	Failovers int64 // moves to the next proxy endpoint
	// Reasons counts the refused pushes by the error they were answered with.
	Reasons map[string]int64
}

// Writers are clients that keep pushing one-item edits (one more wanted of
// an item) to their lists, each from its own goroutine and DEALER socket,
// and record in a ledger.Ledger every edit they attempted and every one
// the cluster acknowledged. Use StartWriters.
type Writers struct {
	cfg     WriterConfig
	lists   []uuid.UUID
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	clients []*writer

	attempted, acked, refused, timedOut, failovers atomic.Int64

	mu      sync.Mutex
	reasons map[string]int64 // guarded by mu
}

// writer is one client; its fields belong to its goroutine until Stop.
type writer struct {
	w      *Writers
	index  int
	clock  *crdt.Clock
	lists  []*crdt.List // its replicas
	ledger *ledger.Ledger
	rng    *rand.Rand
	conn   *wconn
	err    error // why it stopped early, if it did
}

// StartWriters creates the lists (each pushed by its creator and
// acknowledged, retrying until ctx ends) and starts the clients.
func StartWriters(ctx context.Context, cfg WriterConfig) (*Writers, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &Writers{cfg: cfg, reasons: map[string]int64{}}
	shared := make([]*crdt.List, cfg.Shared)
	for i := range cfg.Clients {
		cl := &writer{w: w, index: i, clock: crdt.NewClock(uuid.New()), ledger: ledger.New(),
			rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		cl.conn, err = dialW(cfg.Endpoints, i%len(cfg.Endpoints), cfg.Timeout)
		if err != nil {
			w.closeAll()
			return nil, err
		}
		w.clients = append(w.clients, cl)
		for j := range cfg.Private {
			l, err := crdt.New(cl.clock, fmt.Sprintf("writer %d list %d", i, j))
			if err != nil {
				w.closeAll()
				return nil, fmt.Errorf("testcluster: new list: %w", err)
			}
			cl.lists = append(cl.lists, l)
		}
		for j := range shared {
			if i == 0 {
				if shared[j], err = crdt.New(cl.clock, fmt.Sprintf("shared list %d", j)); err != nil {
					w.closeAll()
					return nil, fmt.Errorf("testcluster: new list: %w", err)
				}
				cl.lists = append(cl.lists, shared[j])
				continue
			}
			cl.lists = append(cl.lists, crdt.Empty(shared[j].ID()))
		}
	}
	// Every list is created by a push of its creator's state.
	for _, cl := range w.clients {
		for _, l := range cl.lists {
			if l.Name() == "" {
				continue // another client's shared list
			}
			if err := cl.pushUntilAcked(ctx, l.ID(), l.Encode()); err != nil {
				w.closeAll()
				return nil, err
			}
			w.lists = append(w.lists, l.ID())
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for _, cl := range w.clients {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			cl.run(runCtx)
		}()
	}
	return w, nil
}

// Lists returns the IDs of every list the writers write to.
func (w *Writers) Lists() []uuid.UUID { return append([]uuid.UUID(nil), w.lists...) }

// Stats returns the counts so far.
func (w *Writers) Stats() WriteStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WriteStats{Attempted: w.attempted.Load(), Acked: w.acked.Load(), Refused: w.refused.Load(),
		TimedOut: w.timedOut.Load(), Failovers: w.failovers.Load(), Reasons: maps.Clone(w.reasons)}
}

// Stop stops the clients, each once its request in flight is answered or
// timed out, and returns the merged ledger of every edit attempted and
// acknowledged, the counts, and the error of a client that stopped early
// (a local failure, not a refused push).
func (w *Writers) Stop() (*ledger.Ledger, WriteStats, error) {
	w.cancel()
	w.wg.Wait()
	all := ledger.New()
	var errs []error
	for _, cl := range w.clients {
		all.Add(cl.ledger)
		if cl.err != nil {
			errs = append(errs, fmt.Errorf("writer %d: %w", cl.index, cl.err))
		}
	}
	w.closeAll()
	return all, w.Stats(), errors.Join(errs...)
}

func (w *Writers) closeAll() {
	for _, cl := range w.clients {
		if cl.conn != nil {
			cl.conn.close()
		}
	}
}

// run pushes edits until ctx ends.
func (cl *writer) run(ctx context.Context) {
	names := make([]string, cl.w.cfg.Items)
	for i := range names {
		names[i] = fmt.Sprintf("item %02d", i)
	}
	for ctx.Err() == nil {
		l := cl.lists[cl.rng.IntN(len(cl.lists))]
		name := names[cl.rng.IntN(len(names))]
		prev := l.MaxStamp()
		if err := l.Add(cl.clock, name, 1); err != nil {
			cl.err = fmt.Errorf("local add: %w", err)
			return
		}
		key := crdt.Normalize(name)
		cl.ledger.Attempt(l.ID(), key, 1, 0)
		cl.w.attempted.Add(1)
		switch err := cl.push(l.ID(), l.Delta(prev).Encode()); {
		case err == nil:
			cl.ledger.Ack(l.ID(), key, 1, 0)
			cl.w.acked.Add(1)
		case errors.Is(err, dealer.ErrTimeout):
			cl.w.timedOut.Add(1)
		default:
			cl.w.refused.Add(1)
			reason := listIDs.ReplaceAllString(err.Error(), "LIST")
			cl.w.mu.Lock()
			cl.w.reasons[reason]++
			cl.w.mu.Unlock()
		}
		if cl.w.cfg.Pace > 0 {
			select { // pacing, not synchronisation
			case <-ctx.Done():
			case <-time.After(cl.w.cfg.Pace):
			}
		}
	}
}

// pushUntilAcked pushes body until the cluster acknowledges it or ctx ends.
func (cl *writer) pushUntilAcked(ctx context.Context, list uuid.UUID, body []byte) error {
	for {
		err := cl.push(list, body)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("testcluster: creating list %s: %w (last error: %w)", list, ctx.Err(), err)
		}
		if !errors.Is(err, dealer.ErrTimeout) {
			// Refused at once (no quorum yet): do not spin on the cores
			// the cluster needs.
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// push sends one Push and waits for its reply; a push with no reply in
// time moves the client to the next proxy.
func (cl *writer) push(list uuid.UUID, body []byte) error {
	m, err := cl.conn.request(protocol.NewPush(0, list, body))
	if errors.Is(err, dealer.ErrTimeout) {
		cl.w.failovers.Add(1)
		if ferr := cl.conn.failover(); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	if err == nil && m.Type != protocol.TypeOK {
		err = fmt.Errorf("push answered by %v", m.Type)
	}
	return err
}

// listIDs matches list IDs in error messages, so that refusals are counted
// by reason.
var listIDs = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// wconn is a writer's connection to one proxy at a time: a dealer.Conn
// that moves on to the next endpoint when a request gets no reply in time.
// Unlike the sync engine's connection it says no Hello and keeps no
// liveness: its users only push and pull, and a request with no reply is
// itself the signal to move on. It belongs to the goroutine using it.
type wconn struct {
	endpoints []string
	at        int // index in endpoints of the one in use
	conn      *dealer.Conn
}

func dialW(endpoints []string, at int, timeout time.Duration) (*wconn, error) {
	c, err := dealer.DialConn(endpoints[at], timeout)
	if err != nil {
		return nil, fmt.Errorf("testcluster: %w", err)
	}
	return &wconn{endpoints: endpoints, at: at, conn: c}, nil
}

// reconnect replaces the socket by a fresh one to the same endpoint (a
// late reply to the old one is dropped with it).
func (c *wconn) reconnect() error {
	if err := c.conn.Redial(c.endpoints[c.at]); err != nil {
		return fmt.Errorf("testcluster: %w", err)
	}
	return nil
}

// failover moves to the next endpoint with a fresh socket.
func (c *wconn) failover() error {
	c.at = (c.at + 1) % len(c.endpoints)
	return c.reconnect()
}

func (c *wconn) close() { c.conn.Close() }

// request sends m with a fresh request ID and returns the reply to it,
// dropping replies to earlier requests; an Error reply is returned as its
// error. A request in flight always runs to its reply or its timeout, so
// that the writer knows whether the cluster acknowledged it.
func (c *wconn) request(m protocol.Message) (protocol.Message, error) {
	return c.conn.Call(context.Background(), m)
}

// Pull reads every list through endpoint (a quorum read; a list is pulled
// again while the read fails, until ctx ends) and checks it against acked,
// the writers' ledger: the returned verdict counts acknowledged edits missing (Lost) or edits
// nobody made (Phantom). It also returns the states read, by list.
func Pull(ctx context.Context, endpoint string, lists []uuid.UUID, acked *ledger.Ledger, timeout time.Duration) (ledger.Verdict, map[uuid.UUID]*crdt.List, error) {
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	c, err := dialW([]string{endpoint}, 0, timeout)
	if err != nil {
		return ledger.Verdict{}, nil, err
	}
	defer c.close()
	var total ledger.Verdict
	states := map[uuid.UUID]*crdt.List{}
	for _, id := range lists {
		var final *crdt.List
		for {
			m, err := c.request(protocol.NewPull(0, id))
			if err == nil && (m.Type != protocol.TypePullReply || m.ListID != id) {
				err = fmt.Errorf("pull of %s answered by %v", id, m.Type)
			}
			if err == nil && len(m.Body) > 0 {
				final, err = crdt.Decode(m.Body)
			}
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return total, states, fmt.Errorf("testcluster: pulling %s through %s: %w", id, endpoint, err)
			}
			if errors.Is(err, dealer.ErrTimeout) {
				if err := c.reconnect(); err != nil {
					return total, states, err
				}
				continue
			}
			select { // refused at once: do not spin
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		states[id] = final
		total.Add(acked.Check(id, final))
	}
	return total, states, nil
}
