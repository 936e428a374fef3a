package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/internal/curvekey"
	"shoplist/internal/dealer"
	"shoplist/protocol"
	"shoplist/testing/ledger"
)

// subRcvHWM is the subscribers' receive queue bound: large, so that a
// subscriber briefly descheduled on a busy machine does not drop updates
// its own queue could have held.
const subRcvHWM = 1_000_000

// pending matches live updates to the pushes that caused them. The proxy
// publishes exactly the pushed bytes (sealed; a subscriber opens them),
// and every pushed delta is unique (it carries a fresh HLC stamp), so the
// body itself is the key. It is safe for concurrent use.
type pending struct {
	mu      sync.Mutex
	entries map[string]pendingPush
}

type pendingPush struct {
	sent     time.Time
	measured bool // sent inside the measured window
	acked    bool
}

func newPending() *pending { return &pending{entries: map[string]pendingPush{}} }

// add registers a push about to be sent.
func (p *pending) add(body []byte, sent time.Time, measured bool) {
	p.mu.Lock()
	p.entries[string(body)] = pendingPush{sent: sent, measured: measured}
	p.mu.Unlock()
}

// ack marks a push acknowledged: its live update is now owed.
func (p *pending) ack(body []byte) {
	p.mu.Lock()
	if e, ok := p.entries[string(body)]; ok {
		e.acked = true
		p.entries[string(body)] = e
	}
	p.mu.Unlock()
}

// drop forgets a push that failed: the proxy publishes nothing for it.
func (p *pending) drop(body []byte) {
	p.mu.Lock()
	delete(p.entries, string(body))
	p.mu.Unlock()
}

// match removes the push whose body was published and returns it.
func (p *pending) match(body []byte) (pendingPush, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[string(body)]
	if ok {
		delete(p.entries, string(body))
	}
	return e, ok
}

// missed returns how many acknowledged pushes sent in the measured window
// have had no live update.
func (p *pending) missed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.entries {
		if e.acked && e.measured {
			n++
		}
	}
	return n
}

// subscriber is one live-update listener: a SUB socket subscribed to some
// of the load lists, and a DEALER for Hello, Subscribe and its probe
// pushes. Both are owned by the goroutine running run.
type subscriber struct {
	proxy   string
	timeout time.Duration
	lists   []uuid.UUID
	pending *pending
	clock   *crdt.Clock
	ledger  *ledger.Counters // the probe list's writes
	probe   *crdt.List
	hist    Histogram
	seen    int // live updates received, matched or not
	// keys holds the topic and key of every list subscribed to, by topic.
	keys map[[protocol.TopicSize]byte]*protocol.LiveKey
}

// open opens a live update with the key of the list its topic names.
func (s *subscriber) open(frames [][]byte) (protocol.Message, error) {
	topic, err := protocol.PubTopic(frames)
	if err != nil {
		return protocol.Message{}, err
	}
	k := s.keys[topic]
	if k == nil {
		return protocol.Message{}, fmt.Errorf("%w: live update on topic %x, not subscribed to", protocol.ErrMalformed, topic)
	}
	return k.Open(frames)
}

// dialSub returns a SUB connected to endpoint, with linger 0, the receive
// queue bound subRcvHWM and receives that time out after a
// dealer.RecvSlice, like the DEALER beside it, so that dealer.Recv can wait
// on it.
func dialSub(endpoint string) (*zmq.Socket, error) {
	s, err := zmq.NewSocket(zmq.SUB)
	if err != nil {
		return nil, fmt.Errorf("loadgen: new SUB socket: %w", err)
	}
	err = s.SetLinger(0)
	if err == nil {
		err = s.SetRcvhwm(subRcvHWM)
	}
	if err == nil {
		err = s.SetRcvtimeo(dealer.RecvSlice)
	}
	if err == nil {
		err = dealer.Connect(s, endpoint, curvekey.Pair{})
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("loadgen: SUB socket to %s: %w", endpoint, err)
	}
	return s, nil
}

// probeWait is how long the subscriber waits for its probe's live update
// before pushing another.
const probeWait = 200 * time.Millisecond

// run subscribes, proves the subscription works with a probe push (ready
// is closed then), and records live-update latencies until stop is closed,
// then drains for at most grace while acknowledged pushes still owe an
// update.
func (s *subscriber) run(ctx context.Context, ready chan<- struct{}, stop <-chan struct{}, grace time.Duration) error {
	c, err := dealer.DialConn(s.proxy, s.timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	w, err := c.Hello(ctx)
	if err != nil {
		return fmt.Errorf("loadgen: subscriber hello: %w", err)
	}
	sub, err := dialSub(w.PubEndpoint)
	if err != nil {
		return err
	}
	defer sub.Close()
	s.probe = crdt.Empty(uuid.New())
	lists := append(append([]uuid.UUID(nil), s.lists...), s.probe.ID())
	s.keys = make(map[[protocol.TopicSize]byte]*protocol.LiveKey, len(lists))
	for _, id := range lists {
		k := protocol.NewLiveKey(id)
		s.keys[k.TopicKey()] = k
		if err := sub.SetSubscribe(string(k.Topic())); err != nil {
			return fmt.Errorf("loadgen: subscribe: %w", err)
		}
	}
	for batch := range slices.Chunk(lists, protocol.MaxSubscribeLists) {
		m, err := protocol.NewSubscribe(0, batch...)
		if err == nil {
			_, err = c.Expect(ctx, m, protocol.TypeOK)
		}
		if err != nil {
			return fmt.Errorf("loadgen: Subscribe: %w", err)
		}
	}
	if err := s.awaitProbe(ctx, c, sub); err != nil {
		return err
	}
	close(ready)
	return s.listen(ctx, sub, stop, grace)
}

// awaitProbe pushes edits of the probe list until one comes back live: the
// probe's topic was subscribed last, so every other subscription is in
// place too.
func (s *subscriber) awaitProbe(ctx context.Context, c *dealer.Conn, sub *zmq.Socket) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		prev := s.probe.MaxStamp()
		if err := s.probe.Add(s.clock, "probe", 1); err != nil {
			return fmt.Errorf("loadgen: probe: %w", err)
		}
		edit := ledger.Edit{List: s.probe.ID(), Item: "probe", Replica: s.clock.Replica(), Wanted: 1}
		s.ledger.Attempt(edit)
		if _, err := c.Expect(ctx, protocol.NewPush(0, s.probe.ID(), s.probe.Delta(prev).Encode()), protocol.TypeOK); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		s.ledger.Ack(edit)
		wait := time.Now().Add(probeWait)
		for time.Now().Before(wait) {
			frames, err := dealer.Recv(ctx, sub, wait)
			if errors.Is(err, dealer.ErrTimeout) {
				break
			} else if err != nil {
				return err
			}
			if m, err := s.open(frames); err == nil && m.ListID == s.probe.ID() {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no live update for the probe list within 10s", ErrSetup)
}

// listen records live updates until stop, then drains what is still
// queued or in flight: it returns once nothing has arrived for one receive
// slice, or after grace.
func (s *subscriber) listen(ctx context.Context, sub *zmq.Socket, stop <-chan struct{}, grace time.Duration) error {
	var drainUntil time.Time
	for {
		draining := !drainUntil.IsZero()
		if !draining {
			select {
			case <-stop:
				drainUntil = time.Now().Add(grace)
				draining = true
			default:
			}
		}
		if draining && time.Now().After(drainUntil) {
			return nil
		}
		frames, err := dealer.Recv(ctx, sub, time.Now())
		if errors.Is(err, dealer.ErrTimeout) {
			if draining {
				return nil
			}
			continue
		} else if err != nil {
			return err
		}
		now := time.Now()
		m, err := s.open(frames)
		if err != nil {
			continue // not ours to judge: the proxy's tests check what it publishes
		}
		s.seen++
		if e, ok := s.pending.match(m.Body); ok && e.measured {
			s.hist.Record(now.Sub(e.sent))
		}
	}
}
