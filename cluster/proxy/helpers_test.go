package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/membership"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// testTimeout bounds every wait in these tests; waits end as soon as their
// condition holds, so it only matters when a test fails.
const testTimeout = 5 * time.Second

// testLogger is quiet unless SHOPLIST_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SHOPLIST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newRegistry returns an in-memory membership: a server joins the ring
// when it says hello.
func newRegistry(tb testing.TB) *membership.Registry {
	tb.Helper()
	reg, err := membership.NewRegistry("", hashring.DefaultVNodes)
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// startProxy starts a proxy on free loopback ports; edit adjusts its Config.
func startProxy(t *testing.T, edit func(*Config)) *Proxy {
	t.Helper()
	cfg := Config{
		ClientEndpoint:  "tcp://127.0.0.1:*",
		PubEndpoint:     "tcp://127.0.0.1:*",
		BackendEndpoint: "tcp://127.0.0.1:*",
		// Long enough that fake servers, which heartbeat only when a test
		// says so, are never marked down by accident on a loaded machine;
		// the tests of liveness set their own.
		Heartbeat: 2 * time.Second,
		Timeout:   time.Second,
		// Fake servers answer only what a test expects: anti-entropy,
		// which would send them digests, is tested on its own.
		AntiEntropyInterval: -1,
		Logger:              testLogger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	if cfg.Membership == nil {
		cfg.Membership = newRegistry(t)
	}
	if cfg.CurveSecretKey == "" && !(cfg.InsecureBackend && cfg.InsecureClients) {
		cfg.CurveSecretKey = newKeyPair(t).Secret
	}
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// endpoint is a test's end of a socket: the test goroutine owns it.
type endpoint struct {
	t    *testing.T
	sock *zmq.Socket
}

func newEndpoint(t *testing.T, typ zmq.Type, identity, addr string) *endpoint {
	t.Helper()
	return newCurveEndpoint(t, typ, identity, addr, "", curvekey.Pair{})
}

// newCurveEndpoint is newEndpoint as a CURVE client with pair that pins
// the server key serverKey; without serverKey it is a plain socket.
func newCurveEndpoint(t *testing.T, typ zmq.Type, identity, addr, serverKey string, pair curvekey.Pair) *endpoint {
	t.Helper()
	s, err := zmq.NewSocket(typ)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLinger(0)
	if identity != "" {
		if err := s.SetIdentity(identity); err != nil {
			t.Fatal(err)
		}
	}
	if serverKey != "" {
		if err := curveClient(s, serverKey, pair); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Connect(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &endpoint{t: t, sock: s}
}

// sendFrames sends raw frames.
func (e *endpoint) sendFrames(frames ...[]byte) {
	e.t.Helper()
	if _, err := e.sock.SendMessage(frames); err != nil {
		e.t.Fatalf("send: %v", err)
	}
}

func (e *endpoint) send(m protocol.Message) { e.t.Helper(); e.sendFrames(m.Frames()...) }

// recvFrames waits up to d for a message; ok is false if none came.
func (e *endpoint) recvFrames(d time.Duration) ([][]byte, bool) {
	e.t.Helper()
	p := zmq.NewPoller()
	p.Add(e.sock, zmq.POLLIN)
	polled, err := p.Poll(d)
	if err != nil {
		e.t.Fatalf("poll: %v", err)
	}
	if len(polled) == 0 {
		return nil, false
	}
	frames, err := e.sock.RecvMessageBytes(0)
	if err != nil {
		e.t.Fatalf("recv: %v", err)
	}
	return frames, true
}

// recv waits for a message and parses it; it fails the test on timeout.
func (e *endpoint) recv() protocol.Message {
	e.t.Helper()
	return e.recvBy(time.Now().Add(testTimeout))
}

func (e *endpoint) recvBy(deadline time.Time) protocol.Message {
	e.t.Helper()
	frames, ok := e.recvFrames(max(time.Until(deadline), 0))
	if !ok {
		e.t.Fatalf("no message within %v", testTimeout)
	}
	m, err := protocol.Parse(frames)
	if err != nil {
		e.t.Fatalf("parse %x: %v", frames, err)
	}
	return m
}

// notification reports whether m is a heartbeat or an EpochAnnounce
// notification, which the proxy sends servers on its own schedule.
func notification(m protocol.Message) bool {
	return m.Type == protocol.TypeHeartbeat || m.Type == protocol.TypeEpochAnnounce && m.RequestID == 0
}

// recvType waits for a message of type want, skipping notifications of
// other types.
func (e *endpoint) recvType(want protocol.Type) protocol.Message {
	e.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		m := e.recvBy(deadline)
		if notification(m) && m.Type != want {
			continue
		}
		if m.Type != want {
			e.t.Fatalf("got %v (%v), want %v", m.Type, m.Err(), want)
		}
		return m
	}
}

// silent asserts that nothing but notifications arrives within d.
func (e *endpoint) silent(d time.Duration) {
	e.t.Helper()
	until := time.Now().Add(d)
	for left := time.Until(until); left > 0; left = time.Until(until) {
		frames, ok := e.recvFrames(left)
		if !ok {
			return
		}
		if m, err := protocol.Parse(frames); err == nil && notification(m) {
			continue
		}
		e.t.Fatalf("unexpected message %x", frames)
	}
}

// fakeServer is a storage server played by the test.
type fakeServer struct {
	*endpoint
	id   string
	pair curvekey.Pair // the key it connected with
}

// newKeyPair returns a fresh CURVE key pair.
func newKeyPair(tb testing.TB) curvekey.Pair {
	tb.Helper()
	p, err := curvekey.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// curveClient makes s a CURVE client with pair that accepts only the
// server whose public key is serverKey.
func curveClient(s *zmq.Socket, serverKey string, pair curvekey.Pair) error {
	return firstErr(s.SetCurveServerkey(serverKey), s.SetCurvePublickey(pair.Public), s.SetCurveSecretkey(pair.Secret))
}

// admitter is a membership that admits servers' keys, as the Registry and
// the tests' memberships do.
type admitter interface {
	Admit(ctx context.Context, id, key string) error
}

// admit admits server id in p's membership with a fresh key pair, which
// it returns.
func admit(tb testing.TB, p *Proxy, id string) curvekey.Pair {
	tb.Helper()
	pair := newKeyPair(tb)
	a, ok := p.members.(admitter)
	if !ok {
		tb.Fatalf("membership %T admits no key", p.members)
	}
	if err := a.Admit(context.Background(), id, pair.Public); err != nil {
		tb.Fatalf("admitting %s: %v", id, err)
	}
	return pair
}

// backendEndpoint connects to p's backend as a storage server with pair,
// pinning the proxy's key.
func backendEndpoint(t *testing.T, p *Proxy, identity string, pair curvekey.Pair) *endpoint {
	t.Helper()
	return newCurveEndpoint(t, zmq.DEALER, identity, p.Endpoints().Backend, p.Endpoints().BackendKey, pair)
}

// joinServer admits a fake server, connects it and waits for its welcome.
func joinServer(t *testing.T, p *Proxy, id string) *fakeServer {
	t.Helper()
	pair := admit(t, p, id)
	s := &fakeServer{endpoint: backendEndpoint(t, p, id, pair), id: id, pair: pair}
	hello, err := protocol.NewServerHello(1, 0, id)
	if err != nil {
		t.Fatal(err)
	}
	s.send(hello)
	s.recvType(protocol.TypeServerWelcome)
	return s
}

// heartbeat proves the fake server alive.
func (s *fakeServer) heartbeat() { s.send(protocol.NewHeartbeat(0)) }

// servers joins fake servers s1..sn.
func joinServers(t *testing.T, p *Proxy, n int) map[string]*fakeServer {
	out := map[string]*fakeServer{}
	for i := 1; i <= n; i++ {
		id := "s" + string(rune('0'+i))
		out[id] = joinServer(t, p, id)
	}
	return out
}

// namedClient connects a client DEALER with routing identity identity and
// a key pair of its own, pinning the proxy's key.
func namedClient(t *testing.T, p *Proxy, identity string) *endpoint {
	return newCurveEndpoint(t, zmq.DEALER, identity, p.Endpoints().Client, p.Endpoints().ClientKey, newKeyPair(t))
}

// newClient connects a client DEALER, pinning the proxy's key.
func newClient(t *testing.T, p *Proxy) *endpoint {
	return newCurveEndpoint(t, zmq.DEALER, "", p.Endpoints().Client, p.Endpoints().ClientKey, newKeyPair(t))
}

// sampleList returns a list with items, and its encoding.
func sampleList(t *testing.T, items ...string) (*crdt.List, []byte) {
	t.Helper()
	c := crdt.NewClock(uuid.New())
	l, err := crdt.New(c, "groceries")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := l.Add(c, it, 1); err != nil {
			t.Fatal(err)
		}
	}
	return l, l.Encode()
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising on time
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
func (s *syncBuffer) Reset()         { s.mu.Lock(); defer s.mu.Unlock(); s.b.Reset() }

// waitForOutput waits until w has printed want.
func waitForOutput(t *testing.T, w *syncBuffer, want string) {
	t.Helper()
	waitFor(t, "output "+want, func() bool { return strings.Contains(w.String(), want) })
}

// pushUntilHeard pushes body to list through client c, acknowledging the
// owners' Stores, until sub receives a live update: a SUB's subscription
// reaches the PUB asynchronously, so the first update heard proves it is
// in place. It fails the test after 100 pushes.
func pushUntilHeard(t *testing.T, p *Proxy, fakes map[string]*fakeServer, c, sub *endpoint, list uuid.UUID, body []byte) {
	t.Helper()
	for req := uint64(1); req <= 100; req++ {
		c.send(protocol.NewPush(req, list, body))
		for _, s := range owners(t, p, fakes, list) {
			m := s.recvType(protocol.TypeStore)
			s.send(protocol.NewStoreReply(m.RequestID, list))
		}
		c.recvType(protocol.TypeOK)
		if _, ok := sub.recvFrames(50 * time.Millisecond); ok {
			return
		}
	}
	t.Fatal("no live update heard after 100 pushes")
}
