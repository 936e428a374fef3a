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

// EditKinds are the kinds of edit writers make, in the order figures are
// printed: add (a new item), +1, -1 (Decrease), set (SetWanted), buy,
// unbuy, remove, re-add (an add of a removed item, which starts fresh),
// rename (the list), category and note.
var EditKinds = []string{"add", "+1", "-1", "set", "buy", "unbuy", "remove", "re-add", "rename", "category", "note"}

// KindStats counts the pushes of one kind of edit.
type KindStats struct{ Attempted, Acked int64 }

// WriteStats counts what writing clients did.
type WriteStats struct {
	Attempted int64 // pushes sent
	Acked     int64 // pushes the cluster acknowledged
	Refused   int64 // pushes answered by an Error (not acknowledged)
	TimedOut  int64 // pushes with no reply in time (not acknowledged)
	Failovers int64 // moves to the next proxy endpoint
	// Skipped counts local edits the list refused (a crdt error): never
	// pushed. Writers pick edits their copy's state allows, so these are
	// rare.
	Skipped int64
	// Pulls counts the pulls answered with a state, PullsFailed those that
	// were refused or timed out, and BadPulls the states pulled that hold
	// what no writer had sent, or do not decode (Stop names them).
	Pulls, PullsFailed, BadPulls int64
	// Kinds counts the pushes by kind of edit (EditKinds).
	Kinds map[string]KindStats
	// Reasons counts the refused pushes by the error they were answered with.
	Reasons map[string]int64
}

// Writers are clients that keep editing their lists with every kind of
// edit (EditKinds) and pushing each edit as a one-part delta, each from its
// own goroutine and DEALER socket and as a replica of its own, and that
// pull the shared lists now and then and merge what they read into their
// copies, as a real client does, so that their removes and sets see other
// writers' edits. Each records in a ledger.Ledger, under its name, every
// delta it pushed (Attempted) and every one the cluster acknowledged
// (Acked), and adds each to a Sent shared by all (WriterConfig.Sent)
// before sending it, against which every state they pull is checked. Use
// StartWriters.
type Writers struct {
	cfg     WriterConfig
	lists   []uuid.UUID
	shared  []uuid.UUID // the lists every client writes to
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	clients []*writer
	sent    Sent

	attempted, acked, refused, timedOut, failovers atomic.Int64
	skipped, pulls, pullsFailed, badPulls          atomic.Int64

	mu      sync.Mutex
	reasons map[string]int64     // guarded by mu
	kinds   map[string]KindStats // guarded by mu
}

// writer is one client; its fields belong to its goroutine until Stop.
type writer struct {
	w        *Writers
	index    int
	name     string // in the ledger
	clock    *crdt.Clock
	lists    []*crdt.List // its replicas
	shared   []bool       // by index in lists: written by every client
	ledger   *ledger.Ledger
	rng      *rand.Rand
	conn     *wconn
	err      error    // why it stopped early, if it did
	problems []string // states pulled that hold what nobody sent
}

// hotItems is how many items of each list (the first ones) get half of the
// edits, so that on a shared list several writers edit them concurrently.
const hotItems = 3

// maxProblems is how many bad pulls a writer names.
const maxProblems = 10

// StartWriters creates the lists (each pushed by its creator and
// acknowledged, retrying until ctx ends) and starts the clients.
func StartWriters(ctx context.Context, cfg WriterConfig) (*Writers, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &Writers{cfg: cfg, reasons: map[string]int64{}, kinds: map[string]KindStats{}, sent: cfg.Sent}
	shared := make([]*crdt.List, cfg.Shared)
	for k := range cfg.Clients {
		i := cfg.FirstIndex + k
		clock := crdt.NewClock(uuid.New())
		cl := &writer{w: w, index: i, name: fmt.Sprintf("writer %d (replica %s)", i, clock.Replica()), clock: clock,
			ledger: ledger.New(), rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		start := k % len(cfg.Endpoints)
		if cfg.SameStart {
			start = 0
		}
		cl.conn, err = dialW(cfg.Endpoints, start, cfg.Timeout)
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
			cl.lists, cl.shared = append(cl.lists, l), append(cl.shared, false)
		}
		for _, id := range cfg.SharedLists {
			cl.lists, cl.shared = append(cl.lists, crdt.Empty(id)), append(cl.shared, true)
		}
		for j := range shared {
			if k == 0 {
				if shared[j], err = crdt.New(cl.clock, fmt.Sprintf("shared list %d", j)); err != nil {
					w.closeAll()
					return nil, fmt.Errorf("testcluster: new list: %w", err)
				}
				cl.lists, cl.shared = append(cl.lists, shared[j]), append(cl.shared, true)
				continue
			}
			cl.lists, cl.shared = append(cl.lists, crdt.Empty(shared[j].ID())), append(cl.shared, true)
		}
	}
	// Every list is created by a push of its creator's state.
	for _, cl := range w.clients {
		for _, l := range cl.lists {
			if l.Name() == "" {
				continue // another client's shared list
			}
			whole := l.Clone()
			cl.ledger.Attempt(cl.name, whole)
			w.sent.Add(whole)
			if err := cl.pushUntilAcked(ctx, l.ID(), whole.Encode()); err != nil {
				w.closeAll()
				return nil, err
			}
			cl.ledger.Ack(cl.name, whole)
			w.lists = append(w.lists, l.ID())
		}
	}
	for _, l := range shared {
		w.shared = append(w.shared, l.ID())
	}
	w.shared = append(w.shared, cfg.SharedLists...)
	w.lists = append(w.lists, cfg.SharedLists...)
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

// Shared returns the IDs of the lists every client writes to: those it
// created (WriterConfig.Shared) or was given (WriterConfig.SharedLists).
func (w *Writers) Shared() []uuid.UUID { return append([]uuid.UUID(nil), w.shared...) }

// Stats returns the counts so far.
func (w *Writers) Stats() WriteStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WriteStats{Attempted: w.attempted.Load(), Acked: w.acked.Load(), Refused: w.refused.Load(),
		TimedOut: w.timedOut.Load(), Failovers: w.failovers.Load(), Skipped: w.skipped.Load(),
		Pulls: w.pulls.Load(), PullsFailed: w.pullsFailed.Load(), BadPulls: w.badPulls.Load(),
		Kinds: maps.Clone(w.kinds), Reasons: maps.Clone(w.reasons)}
}

// Stop stops the clients, each once its request in flight is answered or
// timed out, and returns the merged ledger of every delta attempted and
// acknowledged, the counts, and an error naming a client that stopped
// early (a local failure, not a refused push) or pulled a state holding
// what no writer had sent.
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
		for _, p := range cl.problems {
			errs = append(errs, fmt.Errorf("writer %d: %s", cl.index, p))
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

// count adds one push of kind to the figures, acknowledged or not.
func (w *Writers) count(kind string, acked bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.kinds[kind]
	if acked {
		k.Acked++
	} else {
		k.Attempted++
	}
	w.kinds[kind] = k
}

// run edits and pushes until ctx ends, pulling a shared list before a
// third of its edits.
func (cl *writer) run(ctx context.Context) {
	names := make([]string, cl.w.cfg.Items)
	for i := range names {
		names[i] = fmt.Sprintf("item %02d", i)
	}
	for ctx.Err() == nil {
		i := cl.rng.IntN(len(cl.lists))
		l := cl.lists[i]
		if cl.shared[i] && cl.rng.IntN(3) == 0 {
			if err := cl.pull(l); err != nil {
				cl.err = err
				return
			}
		}
		name := names[cl.rng.IntN(len(names))]
		if cl.rng.IntN(2) == 0 {
			name = names[cl.rng.IntN(min(hotItems, len(names)))]
		}
		prev := l.MaxStamp()
		if kind, err := RandomEdit(l, cl.clock, cl.rng, fmt.Sprintf("writer %d", cl.index), name); err != nil {
			cl.w.skipped.Add(1)
		} else {
			cl.pushDelta(kind, l.Delta(prev))
		}
		if cl.w.cfg.Pace > 0 {
			select { // pacing, not synchronisation
			case <-ctx.Done():
			case <-time.After(cl.w.cfg.Pace):
			}
		}
	}
}

// pushDelta records delta as attempted, pushes it and, if the cluster
// acknowledges it, records it as acknowledged.
func (cl *writer) pushDelta(kind string, delta *crdt.List) {
	cl.ledger.Attempt(cl.name, delta)
	cl.w.sent.Add(delta)
	cl.w.attempted.Add(1)
	cl.w.count(kind, false)
	switch err := cl.push(delta.ID(), delta.Encode()); {
	case err == nil:
		cl.ledger.Ack(cl.name, delta)
		cl.w.acked.Add(1)
		cl.w.count(kind, true)
	case errors.Is(err, dealer.ErrTimeout):
		cl.w.timedOut.Add(1)
	default:
		cl.w.refused.Add(1)
		reason := listIDs.ReplaceAllString(err.Error(), "LIST")
		cl.w.mu.Lock()
		cl.w.reasons[reason]++
		cl.w.mu.Unlock()
	}
}

// pull reads l from the cluster, checks the state read against what every
// writer had sent, and merges it into l. A refused or timed-out pull is
// counted and changes nothing; the error is a local failure.
func (cl *writer) pull(l *crdt.List) error {
	m, err := cl.conn.request(protocol.NewPull(0, l.ID()))
	if errors.Is(err, dealer.ErrTimeout) {
		cl.w.failovers.Add(1)
		if ferr := cl.conn.failover(); ferr != nil {
			return ferr
		}
	}
	if err == nil && (m.Type != protocol.TypePullReply || m.ListID != l.ID()) {
		err = fmt.Errorf("pull answered by %v", m.Type)
	}
	if err != nil {
		cl.w.pullsFailed.Add(1)
		return nil
	}
	cl.w.pulls.Add(1)
	if len(m.Body) == 0 {
		return nil
	}
	read, err := crdt.Decode(m.Body)
	if err == nil && read.ID() != l.ID() {
		err = fmt.Errorf("the state of list %s", read.ID())
	}
	if err != nil {
		cl.w.badPulls.Add(1)
		cl.problem("pulled list %s: %v", l.ID(), err)
		return nil
	}
	if bad := cl.w.sent.Check(read); len(bad) > 0 {
		cl.w.badPulls.Add(1)
		for _, f := range bad {
			cl.problem("pulled a state holding what no writer had sent: %s", f)
		}
	}
	if err := l.Merge(read); err != nil {
		return fmt.Errorf("merging a pull: %w", err)
	}
	return nil
}

func (cl *writer) problem(format string, args ...any) {
	if len(cl.problems) < maxProblems {
		cl.problems = append(cl.problems, fmt.Sprintf(format, args...))
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
// again while the read fails, until ctx ends) and checks each against
// acked, the writers' ledger (ledger.Ledger.Check): the verdict counts the
// parts of each list that lack something acknowledged (Lost) or hold
// something no writer attempted (Invented), and names them, with the
// writers whose acknowledged edit is missing (Verdict.Failures). It also
// returns the states read, by list.
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
