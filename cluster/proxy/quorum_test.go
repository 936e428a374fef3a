package proxy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/protocol"
)

// owners returns the fake servers of a list's preference list, in order.
func owners(t *testing.T, p *Proxy, fakes map[string]*fakeServer, list uuid.UUID) []*fakeServer {
	t.Helper()
	var out []*fakeServer
	for _, id := range p.Owners(list) {
		out = append(out, fakes[id])
	}
	if len(out) != 3 {
		t.Fatalf("preference list %v, want 3 servers", p.Owners(list))
	}
	return out
}

func TestPushIsAcknowledgedAfterWDurableAcksAndNotBefore(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 5)
	c := newClient(t, p)
	l, body := sampleList(t, "milk")
	c.send(protocol.NewPush(7, l.ID(), body))

	own := owners(t, p, fakes, l.ID())
	var stores []protocol.Message
	for _, s := range own {
		m := s.recvType(protocol.TypeStore)
		if m.ListID != l.ID() || !bytes.Equal(m.Body, body) {
			t.Fatalf("%s got Store of %s with %d bytes, want the pushed state", s.id, m.ListID, len(m.Body))
		}
		stores = append(stores, m)
	}
	for id, s := range fakes {
		if id != own[0].id && id != own[1].id && id != own[2].id {
			s.silent(50 * time.Millisecond) // non-owners get nothing
		}
	}
	own[0].send(protocol.NewStoreReply(stores[0].RequestID, l.ID()))
	c.silent(100 * time.Millisecond) // one ack of W=2: no answer yet
	own[2].send(protocol.NewStoreReply(stores[2].RequestID, l.ID()))
	ok := c.recvType(protocol.TypeOK)
	if ok.RequestID != 7 {
		t.Fatalf("OK for request %d, want 7", ok.RequestID)
	}
	// The third ack arrives late and changes nothing.
	own[1].send(protocol.NewStoreReply(stores[1].RequestID, l.ID()))
	c.silent(50 * time.Millisecond)
}

func TestPushFailsNamingHowManyReplicasAcknowledged(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Timeout = 150 * time.Millisecond })
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	l, body := sampleList(t, "eggs")
	c.send(protocol.NewPush(9, l.ID(), body))
	own := owners(t, p, fakes, l.ID())
	first := own[0].recvType(protocol.TypeStore)
	own[1].recvType(protocol.TypeStore)
	own[2].recvType(protocol.TypeStore)
	own[0].send(protocol.NewStoreReply(first.RequestID, l.ID()))
	// The other two never answer: the deadline fails the push.
	start := time.Now()
	m := c.recvType(protocol.TypeError)
	eb := m.Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeQuorumFailed || !strings.Contains(eb.Message, "1 of 3 replicas acknowledged, need W=2") {
		t.Fatalf("error %v", eb)
	}
	if !strings.Contains(eb.Message, "no answer within") {
		t.Fatalf("error does not say why: %v", eb)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("failure took %v, deadline is 150ms", waited)
	}
}

func TestPushFailsAtOnceWhenTwoReplicasAreDown(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 3)
	l, body := sampleList(t, "bread")
	own := owners(t, p, fakes, l.ID())
	// Two owners go silent; the third keeps heartbeating.
	own[1].sock.Close()
	own[2].sock.Close()
	waitFor(t, "two servers down", func() bool {
		own[0].heartbeat()
		down := 0
		for _, m := range p.Members() {
			if !m.Up {
				down++
			}
		}
		return down == 2
	})
	c := newClient(t, p)
	c.send(protocol.NewPush(3, l.ID(), body))
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeQuorumFailed || !strings.Contains(eb.Message, "0 of 3 replicas acknowledged") {
		t.Fatalf("error %v", eb)
	}
	// Nothing was sent to the healthy owner: no half-done write.
	own[0].silent(100 * time.Millisecond)
}

func TestWriteSkipsADownServer(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 3)
	l, body := sampleList(t, "tea")
	own := owners(t, p, fakes, l.ID())
	own[2].sock.Close()
	waitFor(t, own[2].id+" down", func() bool {
		own[0].heartbeat()
		own[1].heartbeat()
		for _, m := range p.Members() {
			if m.ID == own[2].id {
				return !m.Up
			}
		}
		return false
	})
	c := newClient(t, p)
	c.send(protocol.NewPush(4, l.ID(), body))
	for _, s := range own[:2] {
		m := s.recvType(protocol.TypeStore)
		s.send(protocol.NewStoreReply(m.RequestID, l.ID()))
	}
	c.recvType(protocol.TypeOK)
}

func TestARefusalCommonToAllReplicasReachesTheClient(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	l, body := sampleList(t, "jam")
	c := newClient(t, p)
	c.send(protocol.NewPush(5, l.ID(), body))
	for _, s := range owners(t, p, fakes, l.ID()) {
		m := s.recvType(protocol.TypeStore)
		s.send(protocol.NewError(m.RequestID, protocol.CodeClockSkew, "list stamped 1h ahead"))
	}
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeClockSkew || !strings.Contains(eb.Message, "1h ahead") {
		t.Fatalf("error %v, want the servers' ClockSkew", eb)
	}
}

func TestADeadServerDoesNotStallRequestsThatDoNotNeedIt(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Timeout = 3 * time.Second })
	fakes := joinServers(t, p, 5)
	// Find a list the mute server owns and one it does not.
	mute := fakes["s1"]
	var withMute, without *crdt.List
	for withMute == nil || without == nil {
		l, _ := sampleList(t, "x")
		has := false
		for _, id := range p.Owners(l.ID()) {
			has = has || id == mute.id
		}
		if has && withMute == nil {
			withMute = l
		} else if !has && without == nil {
			without = l
		}
	}
	c := newClient(t, p)
	c.send(protocol.NewPull(1, withMute.ID()))
	c.send(protocol.NewPull(2, without.ID()))
	// Every server but the mute one answers whatever it is asked.
	start := time.Now()
	answered := map[uint64]bool{}
	poller := zmq.NewPoller()
	for _, s := range fakes {
		if s != mute {
			poller.Add(s.sock, zmq.POLLIN)
		}
	}
	poller.Add(c.sock, zmq.POLLIN)
	for !answered[2] {
		polled, err := poller.Poll(testTimeout)
		if err != nil || len(polled) == 0 {
			t.Fatalf("stalled: %v", err)
		}
		for _, pl := range polled {
			frames, _ := pl.Socket.RecvMessageBytes(0)
			m, err := protocol.Parse(frames)
			if err != nil {
				t.Fatal(err)
			}
			switch m.Type {
			case protocol.TypeFetch:
				pl.Socket.SendMessage(protocol.NewFetchReply(m.RequestID, m.ListID, nil).Frames())
			case protocol.TypePullReply:
				answered[m.RequestID] = true
			}
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a pull that does not need the mute server took %v", took)
	}
}

func TestPullMergesDivergedReplicasAndRepairsTheStaleOnes(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.R = 3 })
	fakes := joinServers(t, p, 3)
	a, b := diverged(t)
	merged, _ := crdt.Join(a, b)
	c := newClient(t, p)
	c.send(protocol.NewPull(11, a.ID()))
	own := owners(t, p, fakes, a.ID())
	states := [][]byte{a.Encode(), b.Encode(), nil} // the third has nothing
	for i, s := range own {
		m := s.recvType(protocol.TypeFetch)
		s.send(protocol.NewFetchReply(m.RequestID, a.ID(), states[i]))
	}
	got := c.recvType(protocol.TypePullReply)
	if !bytes.Equal(got.Body, merged.Encode()) {
		t.Fatalf("pull returned %d bytes, want the merge of both replicas", len(got.Body))
	}
	// Read repair: the two replicas that lacked something get the merge;
	// the one that had it all gets nothing.
	for _, s := range []*fakeServer{own[0], own[2]} {
		m := s.recvType(protocol.TypeStore)
		if !bytes.Equal(m.Body, merged.Encode()) {
			t.Fatalf("%s repaired with the wrong state", s.id)
		}
		s.send(protocol.NewStoreReply(m.RequestID, a.ID()))
	}
	own[1].silent(100 * time.Millisecond)
}

func TestPullOfAnUnknownListIsAnEmptyReply(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	id := uuid.New()
	c := newClient(t, p)
	c.send(protocol.NewPull(12, id))
	for _, s := range owners(t, p, fakes, id) {
		m := s.recvType(protocol.TypeFetch)
		s.send(protocol.NewFetchReply(m.RequestID, id, nil))
	}
	if got := c.recvType(protocol.TypePullReply); got.Body != nil {
		t.Fatalf("pull of an unknown list returned %d bytes", len(got.Body))
	}
}

func TestAcknowledgedPushIsPublishedToSubscribers(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	l, body := sampleList(t, "coffee")
	other, _ := sampleList(t, "noise")
	sub := newCurveEndpoint(t, zmq.SUB, "", p.Endpoints().Pub, p.Endpoints().ClientKey, newKeyPair(t))
	key := protocol.NewLiveKey(l.ID())
	sub.sock.SetSubscribe(string(key.Topic()))
	c := newClient(t, p)
	// A SUB's subscription reaches the PUB asynchronously: push until the
	// first live update arrives, which proves the subscription is in place.
	push := func(id uuid.UUID, reqID uint64, body []byte) {
		c.send(protocol.NewPush(reqID, id, body))
		for _, s := range owners(t, p, fakes, id) {
			m := s.recvType(protocol.TypeStore)
			s.send(protocol.NewStoreReply(m.RequestID, id))
		}
		c.recvType(protocol.TypeOK)
	}
	for req := uint64(1); ; req++ {
		push(l.ID(), req, body)
		if frames, ok := sub.recvFrames(50 * time.Millisecond); ok {
			m, err := key.Open(frames)
			if err != nil || m.ListID != l.ID() || !bytes.Equal(m.Body, body) {
				t.Fatalf("live update %v %v", m, err)
			}
			break
		}
		if req > 100 {
			t.Fatal("no live update")
		}
	}
	// A list nobody subscribed to is not delivered.
	push(other.ID(), 1000, other.Encode())
	if frames, ok := sub.recvFrames(100 * time.Millisecond); ok {
		t.Fatalf("got an update for a list not subscribed to: %x", frames[0])
	}
}

func TestOwnersAreThreeDistinctServers(t *testing.T) {
	p := startProxy(t, nil)
	joinServers(t, p, 5)
	for range 200 {
		o := p.Owners(uuid.New())
		if len(o) != 3 || o[0] == o[1] || o[1] == o[2] || o[0] == o[2] {
			t.Fatalf("owners %v", o)
		}
	}
}

func TestGarbageFromEveryReplicaIsAnErrorNotAnEmptyList(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	id := uuid.New()
	c := newClient(t, p)
	c.send(protocol.NewPull(13, id))
	for i, s := range owners(t, p, fakes, id) {
		m := s.recvType(protocol.TypeFetch)
		s.send(protocol.NewFetchReply(m.RequestID, id, []byte{0xc1, byte(i)})) // 0xc1: never valid msgpack
	}
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeInternal || !strings.Contains(eb.Message, "readable") {
		t.Fatalf("error %v", eb)
	}
}

func TestReadRepairWaitsWhileAPushToTheListIsInFlight(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.R = 3 })
	fakes := joinServers(t, p, 3)
	a, b := diverged(t) // b holds all of a, and one item more
	own := owners(t, p, fakes, a.ID())
	c := newClient(t, p)
	// A push is in flight: the owners received it and have not answered.
	c.send(protocol.NewPush(1, a.ID(), b.Encode()))
	var stores []protocol.Message
	for _, s := range own {
		stores = append(stores, s.recvType(protocol.TypeStore))
	}
	// A pull meets one replica that already has the push: the client gets
	// the merge, but nobody is repaired, since the push will do it.
	pull := func(reqID uint64) {
		c.send(protocol.NewPull(reqID, a.ID()))
		states := [][]byte{b.Encode(), a.Encode(), a.Encode()}
		for i, s := range own {
			m := s.recvType(protocol.TypeFetch)
			s.send(protocol.NewFetchReply(m.RequestID, a.ID(), states[i]))
		}
		if got := c.recvType(protocol.TypePullReply); !bytes.Equal(got.Body, b.Encode()) {
			t.Fatal("pull did not return the merged state")
		}
	}
	pull(2)
	for _, s := range own {
		s.silent(100 * time.Millisecond)
	}
	// Once the push has ended, the same divergence is repaired.
	for i, s := range own {
		s.send(protocol.NewStoreReply(stores[i].RequestID, a.ID()))
	}
	c.recvType(protocol.TypeOK)
	pull(3)
	for _, s := range own[1:] {
		if m := s.recvType(protocol.TypeStore); !bytes.Equal(m.Body, b.Encode()) {
			t.Fatalf("%s repaired with the wrong state", s.id)
		}
	}
}

// diverged returns two states of one list, as two replicas might hold them:
// b is a plus one more item.
func diverged(t *testing.T) (a, b *crdt.List) {
	t.Helper()
	clock := crdt.NewClock(uuid.New())
	a, err := crdt.New(clock, "shared")
	if err == nil {
		err = a.Add(clock, "apples", 2)
	}
	b = a.Clone()
	if err == nil {
		err = b.Add(clock, "pears", 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestQuorumFailureNamesRepliesStillOutstanding(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	l, body := sampleList(t, "jam")
	own := owners(t, p, fakes, l.ID())
	c := newClient(t, p)
	c.send(protocol.NewPush(4, l.ID(), body))
	// Two owners refuse; the third holds its answer. W=2 is out of reach
	// after the second refusal, and the client learns why the third did
	// not count either.
	for _, s := range own[:2] {
		m := s.recvType(protocol.TypeStore)
		refusal := protocol.NewError(m.RequestID, protocol.CodeUnavailable, "server overloaded")
		refusal.ListID = m.ListID
		s.send(refusal)
	}
	own[2].recvType(protocol.TypeStore)
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeQuorumFailed || !strings.Contains(eb.Message, "0 of 3 replicas acknowledged") ||
		!strings.Contains(eb.Message, "1 not answered yet") {
		t.Fatalf("error %v; want the two refusals and one reply outstanding", eb)
	}
}
