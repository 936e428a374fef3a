package protocol

import (
	"bytes"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// These tests send messages through real ZeroMQ sockets on loopback TCP, as
// the proxy, servers and clients will, so that the frame layout documented
// in docs/PROTOCOL.md is what libzmq actually delivers. One goroutine owns
// every socket in each test.

func bindLoopback(t *testing.T, kind zmq.Type) (*zmq.Socket, string) {
	t.Helper()
	s, err := zmq.NewSocket(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	must(t, s.SetLinger(0))
	must(t, s.Bind("tcp://127.0.0.1:*"))
	ep, err := s.GetLastEndpoint()
	must(t, err)
	return s, ep
}

// connect connects a socket of the kind to ep; a non-empty identity is set
// first, as ZeroMQ requires.
func connect(t *testing.T, kind zmq.Type, ep, identity string) *zmq.Socket {
	t.Helper()
	s, err := zmq.NewSocket(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	must(t, s.SetLinger(0))
	if identity != "" {
		must(t, s.SetIdentity(identity))
	}
	must(t, s.Connect(ep))
	return s
}

// recvWithin waits for one multipart message for at most d.
func recvWithin(t *testing.T, s *zmq.Socket, d time.Duration) [][]byte {
	t.Helper()
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	ready, err := p.Poll(d)
	must(t, err)
	if len(ready) == 0 {
		t.Fatalf("nothing received within %v", d)
	}
	frames, err := s.RecvMessageBytes(0)
	must(t, err)
	return frames
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDealerRouterRoundTripOverZeroMQ(t *testing.T) {
	router, ep := bindLoopback(t, zmq.ROUTER)
	dealer := connect(t, zmq.DEALER, ep, "client-1")

	push := NewPush(42, listA, listBody)
	_, err := dealer.SendMessage(push.Frames())
	must(t, err)

	identity, rest, err := SplitRouting(recvWithin(t, router, 5*time.Second))
	must(t, err)
	if len(identity) != 1 || string(identity[0]) != "client-1" {
		t.Fatalf("identity %q, want the dealer's", identity)
	}
	got, err := Parse(rest)
	must(t, err)
	if got.Type != TypePush || got.RequestID != 42 || got.ListID != listA || !bytes.Equal(got.Body, listBody) {
		t.Fatalf("router read %+v", got)
	}

	_, err = router.SendMessage(NewOK(got.RequestID, got.ListID).AppendFrames(identity))
	must(t, err)
	reply, err := Parse(recvWithin(t, dealer, 5*time.Second))
	must(t, err)
	if reply.Type != TypeOK || reply.RequestID != 42 {
		t.Fatalf("dealer read %+v, want OK for request 42", reply)
	}
}

func TestPubSubDeliversOnlySubscribedListsOverZeroMQ(t *testing.T) {
	pub, ep := bindLoopback(t, zmq.PUB)
	sub := connect(t, zmq.SUB, ep, "")
	key, otherKey := NewLiveKey(listA), NewLiveKey(listB)
	must(t, sub.SetSubscribe(string(key.Topic())))
	seal := func(k *LiveKey) [][]byte {
		t.Helper()
		frames, err := k.Seal(NewLiveUpdate(k.List(), listBody))
		must(t, err)
		return frames
	}

	// A subscription reaches the publisher asynchronously; publish until the
	// first update arrives, within a deadline, rather than sleeping.
	p := zmq.NewPoller()
	p.Add(sub, zmq.POLLIN)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := pub.SendMessage(seal(otherKey))
		must(t, err)
		_, err = pub.SendMessage(seal(key))
		must(t, err)
		ready, err := p.Poll(20 * time.Millisecond)
		must(t, err)
		if len(ready) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no live update within 5s")
		}
	}
	// Everything that arrives is for listA: the other list's updates, sent
	// first each round, are filtered by topic.
	for {
		frames, err := sub.RecvMessageBytes(zmq.DONTWAIT)
		if err != nil {
			break
		}
		m, err := key.Open(frames)
		must(t, err)
		if m.ListID != listA || !bytes.Equal(m.Body, listBody) {
			t.Fatalf("subscriber to %s got %+v", listA, m)
		}
	}
}
