package server

import (
	"context"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// wait is the deadline for anything a test waits for: generous, because
// tests run in parallel with -race on a small machine; a healthy run takes
// milliseconds.
const wait = 10 * time.Second

// fakeProxy stands in for the proxy's backend: a ROUTER on a free loopback
// port, a CURVE server with a key of its own, with ROUTER_HANDOVER as the
// real one (it checks no client key: no ZAP handler runs in the tests'
// ZeroMQ context). The test goroutine owns it.
// While it waits for a message it heartbeats the server it welcomed, as a
// proxy does, so that the server does not find it silent, unless it is made
// silent (until it welcomes a server again).
type fakeProxy struct {
	t         *testing.T
	sock      *zmq.Socket
	endpoint  string        // where it is bound
	key       curvekey.Pair // its CURVE key pair
	server    []byte        // identity of the welcomed server
	heartbeat time.Duration // how often to heartbeat it
	silent    bool          // no heartbeats: the server will give it up
	nextID    uint64
	reports   []report // the ServerReports received, oldest first
}

// report is a ServerReport a fake proxy received.
type report struct {
	epoch uint64
	body  protocol.ServerReportBody
}

// newFakeProxy binds a fake proxy on a free port with a fresh key.
func newFakeProxy(t *testing.T) *fakeProxy {
	t.Helper()
	return bindFakeProxy(t, "tcp://127.0.0.1:*", newKeyPair(t))
}

// newKeyPair returns a fresh CURVE key pair.
func newKeyPair(t testing.TB) curvekey.Pair {
	t.Helper()
	k, err := curvekey.Generate()
	must(t, err)
	return k
}

// bindFakeProxy binds a fake proxy with key on endpoint, retrying while
// the port is still held by a socket closed a moment ago.
func bindFakeProxy(t *testing.T, endpoint string, key curvekey.Pair) *fakeProxy {
	t.Helper()
	sock, err := zmq.NewSocket(zmq.ROUTER)
	must(t, err)
	must(t, sock.SetLinger(0))
	must(t, sock.SetRouterHandover(true))
	must(t, sock.SetCurveServer(1))
	must(t, sock.SetCurveSecretkey(key.Secret))
	deadline := time.Now().Add(wait)
	for {
		err = sock.Bind(endpoint)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // the port is released asynchronously
	}
	must(t, err)
	ep, err := sock.GetLastEndpoint()
	must(t, err)
	p := &fakeProxy{t: t, sock: sock, endpoint: ep, key: key, heartbeat: 100 * time.Millisecond, nextID: 1000}
	t.Cleanup(p.close)
	return p
}

// close closes the socket (linger 0); closing twice does nothing.
func (p *fakeProxy) close() {
	if p.sock != nil {
		p.sock.Close()
		p.sock = nil
	}
}

// recv returns the next message from any server, skipping heartbeats and
// ServerReports (recorded in reports), within the deadline: its identity,
// the parsed message (zero if it does not parse) and the raw frames after
// the identity.
func (p *fakeProxy) recv() (identity []byte, m protocol.Message, frames [][]byte) {
	p.t.Helper()
	poller := zmq.NewPoller()
	poller.Add(p.sock, zmq.POLLIN)
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		timeout := p.heartbeat
		if p.silent {
			timeout = time.Until(deadline)
		}
		polled, err := poller.Poll(timeout)
		must(p.t, err)
		if len(polled) == 0 {
			if p.server != nil && !p.silent {
				p.send(p.server, protocol.NewHeartbeat(0))
			}
			continue
		}
		raw, err := p.sock.RecvMessageBytes(0)
		must(p.t, err)
		if len(raw) < 2 {
			p.t.Fatalf("fake proxy received %d frames", len(raw))
		}
		m, _ := protocol.Parse(raw[1:])
		if m.Type == protocol.TypeServerReport {
			body, err := protocol.DecodeServerReportBody(m.Body)
			must(p.t, err)
			p.reports = append(p.reports, report{epoch: m.Epoch, body: body})
			continue
		}
		if m.Type == protocol.TypeHeartbeat {
			continue
		}
		return raw[0], m, raw[1:]
	}
	p.t.Fatalf("fake proxy: nothing received within %v", wait)
	return nil, protocol.Message{}, nil
}

// expectHello waits for a ServerHello and returns its identity and message.
func (p *fakeProxy) expectHello() ([]byte, protocol.Message) {
	p.t.Helper()
	identity, m, _ := p.recv()
	if m.Type != protocol.TypeServerHello {
		p.t.Fatalf("fake proxy: got %v, want ServerHello", m.Type)
	}
	return identity, m
}

// dial returns the endpoint servers are given: ENDPOINT#KEY.
func (p *fakeProxy) dial() string { return curvekey.JoinEndpoint(p.endpoint, p.key.Public) }

// serverOf returns the server ID in a server socket's routing identity,
// ID/RANDOM, and fails the test if it is not of that form.
func serverOf(t *testing.T, identity []byte) string {
	t.Helper()
	id, random, ok := strings.Cut(string(identity), "/")
	if _, err := hex.DecodeString(random); !ok || err != nil || len(random) != 16 {
		t.Fatalf("socket identity %q is not SERVER_ID/16 hex digits", identity)
	}
	return id
}

// welcome waits for a server's hello, checks that its socket identity
// names the server ID the hello names, and welcomes it at epoch.
func (p *fakeProxy) welcome(epoch uint64) string {
	p.t.Helper()
	identity, m := p.expectHello()
	body, err := protocol.DecodeServerHelloBody(m.Body)
	must(p.t, err)
	if id := serverOf(p.t, identity); body.ServerID != id {
		p.t.Fatalf("hello names %q but the socket identity is %q", body.ServerID, identity)
	}
	p.server, p.silent = identity, false
	p.send(identity, protocol.NewServerWelcome(m.RequestID, epoch))
	return body.ServerID
}

// send sends m to the server with identity.
func (p *fakeProxy) send(identity []byte, m protocol.Message) {
	p.t.Helper()
	p.sendFrames(identity, m.Frames()...)
}

// sendFrames sends raw frames to the server with identity.
func (p *fakeProxy) sendFrames(identity []byte, frames ...[]byte) {
	p.t.Helper()
	_, err := p.sock.SendMessage(identity, frames)
	must(p.t, err)
}

// id returns a fresh request ID.
func (p *fakeProxy) id() uint64 {
	p.nextID++
	return p.nextID
}

// call sends a request to the welcomed server and returns the next message
// it sends, which must answer that request.
func (p *fakeProxy) call(m protocol.Message) protocol.Message {
	p.t.Helper()
	p.send(p.server, m)
	_, reply, frames := p.recv()
	for m.Type != protocol.TypeHandoff && reply.Type == protocol.TypeHandoff {
		// The server offers its hints on its own schedule; a call is
		// about its own reply.
		_, reply, frames = p.recv()
	}
	if reply.Type == 0 {
		p.t.Fatalf("reply to %v does not parse: %x", m.Type, frames)
	}
	if reply.RequestID != m.RequestID {
		p.t.Fatalf("reply %v has request ID %d, want %d", reply.Type, reply.RequestID, m.RequestID)
	}
	return reply
}

// wantError fails the test unless m is an Error with code.
func wantError(t *testing.T, m protocol.Message, code protocol.ErrorCode) protocol.ErrorBody {
	t.Helper()
	if m.Type != protocol.TypeError {
		t.Fatalf("got %v, want Error %v", m.Type, code)
	}
	b, err := protocol.DecodeErrorBody(m.Body)
	must(t, err)
	if b.Code != code {
		t.Fatalf("got Error %v (%s), want %v", b.Code, b.Message, code)
	}
	return b
}

// startServer starts a server on a fresh directory connected to p, and
// closes it when the test ends; change lets a test adjust the configuration
// first. The heartbeat is short, but leaves the server 1.5s of silence
// before it gives a proxy up, so that a test goroutine stalled by a busy
// machine between two calls does not see it reconnect.
func startServer(t *testing.T, p *fakeProxy, change func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		Dir:       t.TempDir(),
		Proxies:   []string{p.dial()},
		Heartbeat: 500 * time.Millisecond,
		Workers:   4,
		Logger:    testLogger(t),
	}
	if change != nil {
		change(&cfg)
	}
	s, err := Start(context.Background(), cfg)
	must(t, err)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// startWelcomed starts a server and welcomes it on a fresh fake proxy.
func startWelcomed(t *testing.T, change func(*Config)) (*Server, *fakeProxy) {
	t.Helper()
	p := newFakeProxy(t)
	s := startServer(t, p, change)
	if id := p.welcome(1); id != s.ID() {
		t.Fatalf("hello from %q, server ID is %q", id, s.ID())
	}
	return s, p
}

// testLogger logs into the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter writes to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// newList returns a list with the given items, edited by a clock at now.
func newList(t *testing.T, now func() time.Time, items ...string) *crdt.List {
	t.Helper()
	c := crdt.NewClockWith(uuid.New(), now)
	l, err := crdt.New(c, "groceries")
	must(t, err)
	for _, it := range items {
		must(t, l.Add(c, it, 1))
	}
	return l
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// itemsOf decodes a list body and returns its item keys, joined by commas.
func itemsOf(t *testing.T, body []byte) string {
	t.Helper()
	l, err := crdt.Decode(body)
	must(t, err)
	return strings.Join(l.ItemKeys(), ",")
}

// mustStore stores a new list on the welcomed server and fails the test,
// saying when, unless it is acknowledged.
func (p *fakeProxy) mustStore(when string) {
	p.t.Helper()
	l := newList(p.t, time.Now, "milk")
	if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
		p.t.Fatalf("store %s: %v", when, r.Type)
	}
}

// storeMsg returns a Store of l with a fresh request ID.
func (p *fakeProxy) storeMsg(l *crdt.List) protocol.Message {
	return protocol.NewStore(p.id(), 0, l.ID(), l.Encode())
}
