package integration

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/internal/curvekey"
	"shoplist/internal/dealer"
	"shoplist/protocol"
)

// requestTimeout bounds one request of the test client; the proxies in these
// tests answer or give up well within it.
const requestTimeout = 5 * time.Second

// errNoReply means the proxy did not answer a request in time.
var errNoReply = errors.New("test client: no reply in time")

// client is a synchronous test client of the proxy: one DEALER socket, used
// only by the goroutine that called dial.
type client struct {
	sock   *zmq.Socket
	poller *zmq.Poller
	lastID uint64
}

// dial connects a client to the proxy's client endpoint; the test closes it.
func dial(t *testing.T, endpoint string) *client {
	t.Helper()
	s := newSocket(t, zmq.DEALER)
	connect(t, s, endpoint)
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	return &client{sock: s, poller: p}
}

// connect connects s to endpoint; an ENDPOINT#KEY is dialled as a CURVE
// client with a new key pair that pins KEY, as any client may.
func connect(t *testing.T, s *zmq.Socket, endpoint string) {
	t.Helper()
	must(t, dealer.Connect(s, endpoint, curvekey.Pair{}))
}

// newSocket returns a socket of the kind that the test closes at its end.
func newSocket(t *testing.T, kind zmq.Type) *zmq.Socket {
	t.Helper()
	s, err := zmq.NewSocket(kind)
	must(t, err)
	must(t, s.SetLinger(0))
	t.Cleanup(func() { s.Close() })
	return s
}

// request sends m with a fresh request ID and returns the reply to it,
// dropping late replies to earlier requests. An Error reply is returned as
// its protocol.ErrorBody.
func (c *client) request(build func(reqID uint64) protocol.Message) (protocol.Message, error) {
	c.lastID++
	id := c.lastID
	if _, err := c.sock.SendMessage(build(id).Frames()); err != nil {
		return protocol.Message{}, err
	}
	deadline := time.Now().Add(requestTimeout)
	for {
		frames, err := recvUntil(c.sock, c.poller, deadline)
		if err != nil {
			return protocol.Message{}, fmt.Errorf("request %d: %w", id, err)
		}
		m, err := protocol.Parse(frames)
		if err != nil {
			return protocol.Message{}, fmt.Errorf("request %d: reply: %w", id, err)
		}
		if m.RequestID != id {
			continue
		}
		if err := m.Err(); err != nil {
			return m, err
		}
		return m, nil
	}
}

// recvUntil receives one message from s, polled by p, before the deadline.
func recvUntil(s *zmq.Socket, p *zmq.Poller, deadline time.Time) ([][]byte, error) {
	left := time.Until(deadline)
	if left <= 0 {
		return nil, errNoReply
	}
	ready, err := p.Poll(left)
	if err != nil {
		return nil, err
	}
	if len(ready) == 0 {
		return nil, errNoReply
	}
	return s.RecvMessageBytes(0)
}

// hello greets the proxy and returns its Welcome.
func (c *client) hello() (protocol.WelcomeBody, error) {
	m, err := c.request(protocol.NewHello)
	if err != nil {
		return protocol.WelcomeBody{}, err
	}
	if m.Type != protocol.TypeWelcome {
		return protocol.WelcomeBody{}, fmt.Errorf("hello answered by %v", m.Type)
	}
	return protocol.DecodeWelcomeBody(m.Body)
}

// push pushes a list state or delta and returns nil once the proxy says OK.
func (c *client) push(list uuid.UUID, body []byte) error {
	m, err := c.request(func(id uint64) protocol.Message { return protocol.NewPush(id, list, body) })
	if err == nil && m.Type != protocol.TypeOK {
		err = fmt.Errorf("push answered by %v", m.Type)
	}
	return err
}

// pull returns the list as a quorum read finds it; nil if no replica has it.
func (c *client) pull(list uuid.UUID) (*crdt.List, error) {
	m, err := c.request(func(id uint64) protocol.Message { return protocol.NewPull(id, list) })
	switch {
	case err != nil:
		return nil, err
	case m.Type != protocol.TypePullReply || m.ListID != list:
		return nil, fmt.Errorf("pull of %s answered by %v for %s", list, m.Type, m.ListID)
	case len(m.Body) == 0:
		return nil, nil
	}
	return crdt.Decode(m.Body)
}

// subscribe tells the proxy of the client's interest in lists.
func (c *client) subscribe(lists ...uuid.UUID) error {
	m, err := c.request(func(id uint64) protocol.Message {
		m, _ := protocol.NewSubscribe(id, lists...) // valid by construction
		return m
	})
	if err == nil && m.Type != protocol.TypeOK {
		err = fmt.Errorf("subscribe answered by %v", m.Type)
	}
	return err
}

// subscriber is a SUB socket for live updates, used by one goroutine,
// with the key of every list it is subscribed to, by topic.
type subscriber struct {
	sock   *zmq.Socket
	poller *zmq.Poller
	keys   map[[protocol.TopicSize]byte]*protocol.LiveKey
}

// subscribeLive connects a SUB socket to the PUB endpoint the proxy
// advertises and subscribes it to lists.
func subscribeLive(t *testing.T, pubEndpoint string, lists ...uuid.UUID) *subscriber {
	t.Helper()
	s := newSocket(t, zmq.SUB)
	keys := map[[protocol.TopicSize]byte]*protocol.LiveKey{}
	for _, l := range lists {
		k := protocol.NewLiveKey(l)
		keys[k.TopicKey()] = k
		must(t, s.SetSubscribe(string(k.Topic())))
	}
	connect(t, s, pubEndpoint)
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	return &subscriber{sock: s, poller: p, keys: keys}
}

// next returns the next live update, waiting at most d.
func (s *subscriber) next(d time.Duration) (protocol.Message, error) {
	frames, err := recvUntil(s.sock, s.poller, time.Now().Add(d))
	if err != nil {
		return protocol.Message{}, err
	}
	topic, err := protocol.PubTopic(frames)
	if err != nil {
		return protocol.Message{}, err
	}
	k := s.keys[topic]
	if k == nil {
		return protocol.Message{}, fmt.Errorf("live update on topic %x, which no list subscribed to has", topic)
	}
	return k.Open(frames)
}

// replica is one client's copy of a list, with its own clock, that turns
// each edit into the delta to push.
type replica struct {
	clock *crdt.Clock
	list  *crdt.List
}

// newReplica returns a fresh named list.
func newReplica(t *testing.T, name string) *replica {
	t.Helper()
	clock := crdt.NewClock(uuid.New())
	l, err := crdt.New(clock, name)
	must(t, err)
	return &replica{clock: clock, list: l}
}

// findList returns a new named list whose preference list, as owners
// computes it, satisfies ok. The ring is fixed, so a search that fails fails
// every time: it gives up after many tries rather than loop.
func findList(t *testing.T, name string, owners func(uuid.UUID) []string, ok func([]string) bool) *replica {
	t.Helper()
	for range 10_000 {
		if r := newReplica(t, name); ok(owners(r.id())) {
			return r
		}
	}
	t.Fatalf("no list with a suitable preference list in 10000 tries")
	return nil
}

// pushNew creates a named list and pushes its state with c.
func pushNew(t *testing.T, c *client, name string) *replica {
	t.Helper()
	r := newReplica(t, name)
	must(t, c.push(r.id(), r.state()))
	return r
}

// joinReplica returns another client's empty replica of list id.
func joinReplica(id uuid.UUID) *replica {
	return &replica{clock: crdt.NewClock(uuid.New()), list: crdt.Empty(id)}
}

// id returns the list's ID.
func (r *replica) id() uuid.UUID { return r.list.ID() }

// state returns the encoding of the whole list.
func (r *replica) state() []byte { return r.list.Encode() }

// add adds qty of item and returns the delta that carries the edit.
func (r *replica) add(item string, qty int64) ([]byte, error) {
	since := r.list.MaxStamp()
	if err := r.list.Add(r.clock, item, qty); err != nil {
		return nil, err
	}
	return r.list.Delta(since).Encode(), nil
}

// missingItems returns the items of want that l lacks; a nil l lacks them all.
func missingItems(l *crdt.List, want []string) []string {
	var missing []string
	for _, item := range want {
		if l == nil {
			missing = append(missing, item)
			continue
		}
		if _, ok := l.Lookup(item); !ok {
			missing = append(missing, item)
		}
	}
	return missing
}
