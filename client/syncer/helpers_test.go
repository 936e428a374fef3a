package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
	"shoplist/testing/testcluster"
)

// waitTimeout bounds every wait of these tests; nothing is measured by it.
const waitTimeout = testcluster.WaitTimeout

// eventually polls cond until it holds; see testcluster.Eventually.
var eventually = testcluster.Eventually

// testLog is a logger whose output is shown if the test fails, and which
// tests can search.
type testLog struct {
	mu  sync.Mutex // guards buf
	buf strings.Builder
}

func newTestLog(t *testing.T) (*testLog, *slog.Logger) {
	w := &testLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine logs:\n%s", w.String())
		}
	})
	return w, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *testLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// contains reports whether some line of the log holds every one of parts.
func (w *testLog) contains(parts ...string) bool {
	for line := range strings.Lines(w.String()) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			return true
		}
	}
	return false
}

// client is one client of the tests: a replica in its own directory and the
// engine syncing it.
type client struct {
	t     *testing.T
	name  string
	store *replica.Store
	eng   *syncer.Engine
	log   *testLog
}

// newClient opens a replica in a fresh directory and starts an engine on
// it with the test timing.
func newClient(t *testing.T, name string, endpoints ...string) *client {
	t.Helper()
	return newClientIn(t, name, t.TempDir(), func(*syncer.Config) {}, endpoints...)
}

// newClientIn opens the replica in dir and starts an engine; adjust edits
// its configuration first.
func newClientIn(t *testing.T, name, dir string, adjust func(*syncer.Config), endpoints ...string) *client {
	t.Helper()
	store, err := replica.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	lw, logger := newTestLog(t)
	cfg := testConfig(store, logger.With("client", name), endpoints...)
	adjust(&cfg)
	eng, err := syncer.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("closing the engine of %s: %v", name, err)
		}
	})
	return &client{t: t, name: name, store: store, eng: eng, log: lw}
}

// testConfig is the engine configuration of these tests: fast heartbeats,
// short back-offs, a fast Generation poll, and no periodic re-pull (so a
// remote change can only arrive by a pull the test asked for or a live
// update).
func testConfig(store *replica.Store, logger *slog.Logger, endpoints ...string) syncer.Config {
	return syncer.Config{
		Store:      store,
		Endpoints:  endpoints,
		Logger:     logger,
		Heartbeat:  200 * time.Millisecond,
		Timeout:    3 * time.Second, // longer than the test proxy's own deadline
		MaxBackoff: 300 * time.Millisecond,
		Poll:       20 * time.Millisecond,
		Repull:     time.Hour,
	}
}

// create makes a list in the client's replica and kicks the engine.
func (c *client) create(name string) uuid.UUID {
	c.t.Helper()
	e, err := c.store.Create(name)
	if err != nil {
		c.t.Fatal(err)
	}
	c.eng.Kick(e.List.ID())
	return e.List.ID()
}

// edit edits a list in the replica and kicks the engine.
func (c *client) edit(id uuid.UUID, fn func(*crdt.List, *crdt.Clock) error) {
	c.t.Helper()
	if _, _, err := c.store.Edit(id, fn); err != nil {
		c.t.Fatal(err)
	}
	c.eng.Kick(id)
}

// get returns the client's copy of a list.
func (c *client) get(id uuid.UUID) replica.Entry {
	c.t.Helper()
	e, err := c.store.Get(id)
	if err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
	return e
}

// wanted returns the wanted count of an item in the client's copy (0 if
// absent).
func (c *client) wanted(id uuid.UUID, item string) int64 {
	c.t.Helper()
	v, ok := c.get(id).List.Lookup(item)
	if !ok {
		return 0
	}
	return v.Wanted
}

// waitSynced calls WaitSynced and fails the test if it fails.
func (c *client) waitSynced(ids ...uuid.UUID) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.eng.WaitSynced(ctx, ids...); err != nil {
		c.t.Fatalf("%s: WaitSynced: %v (status %+v)", c.name, err, c.eng.Status())
	}
}

// waitConn waits until the engine's connection is in state.
func (c *client) waitConn(state syncer.ConnState) {
	c.t.Helper()
	eventually(c.t, fmt.Sprintf("%s %v", c.name, state), func() bool { return c.eng.Status().Conn == state },
		func() string { return fmt.Sprintf("status %+v", c.eng.Status()) })
}

// waitEvent reads the engine's events until one satisfies ok, and returns
// it; the others are dropped.
func (c *client) waitEvent(what string, ok func(syncer.Event) bool) syncer.Event {
	c.t.Helper()
	ev, found := c.nextEvent(waitTimeout, ok)
	if !found {
		c.t.Fatalf("%s: no event %s within %v", c.name, what, waitTimeout)
	}
	return ev
}

// nextEvent reads events until one satisfies ok or d passes.
func (c *client) nextEvent(d time.Duration, ok func(syncer.Event) bool) (syncer.Event, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, open := <-c.eng.Events():
			if !open {
				c.t.Fatalf("%s: events closed", c.name)
			}
			if ok(ev) {
				return ev, true
			}
		case <-timer.C:
			return syncer.Event{}, false
		}
	}
}

// add returns an edit adding qty of item.
func add(item string, qty int64) func(*crdt.List, *crdt.Clock) error {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, item, qty) }
}

// clusterList pulls a list from the cluster with a DEALER of its own;
// nil if the cluster does not know it.
func clusterList(t *testing.T, endpoint string, id uuid.UUID) *crdt.List {
	t.Helper()
	s, err := dealer.Dial(endpoint, dealer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SendMessage(protocol.NewPull(1, id).Frames()); err != nil {
		t.Fatal(err)
	}
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	polled, err := p.Poll(waitTimeout)
	if err != nil || len(polled) == 0 {
		t.Fatalf("no answer to a pull of %s (%v)", id, err)
	}
	frames, err := s.RecvMessageBytes(0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := protocol.Parse(frames)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != protocol.TypePullReply {
		t.Fatalf("pull of %s answered by %v: %v", id, m.Type, m.Err())
	}
	if len(m.Body) == 0 {
		return nil
	}
	l, err := crdt.Decode(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// deadEndpoint returns a loopback endpoint nothing listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "tcp://" + addr
}

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// isErr reports whether err is target, for messages.
func isErr(err, target error) bool { return errors.Is(err, target) }

// replicaOpen opens a second Store on dir, as another process would.
func replicaOpen(t *testing.T, dir string) (*replica.Store, error) {
	s, err := replica.Open(dir)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}
