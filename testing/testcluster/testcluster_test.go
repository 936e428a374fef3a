package testcluster

import (
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/protocol"
)

// request sends m on s and returns the reply, within d.
func request(t *testing.T, s *zmq.Socket, m protocol.Message, d time.Duration) protocol.Message {
	t.Helper()
	if _, err := s.SendMessage(m.Frames()); err != nil {
		t.Fatal(err)
	}
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	polled, err := p.Poll(d)
	if err != nil || len(polled) == 0 {
		t.Fatalf("no reply to %v within %v (%v)", m.Type, d, err)
	}
	frames, err := s.RecvMessageBytes(0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := protocol.Parse(frames)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dealer returns a DEALER connected to endpoint.
func dealer(t *testing.T, endpoint string) *zmq.Socket {
	t.Helper()
	s, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLinger(0)
	t.Cleanup(func() { s.Close() })
	if err := s.Connect(endpoint); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClusterServesAndSurvivesAProxyRestart: a push is acknowledged, the
// proxy comes back on the same client endpoint after StopProxy/StartProxy
// with every server up, and the pushed list is still there.
func TestClusterServesAndSurvivesAProxyRestart(t *testing.T) {
	t.Parallel()
	c := Start(t, 3)
	if len(c.Servers()) != 3 {
		t.Fatalf("%d servers, want 3", len(c.Servers()))
	}
	s := dealer(t, c.Endpoint())
	if r := request(t, s, protocol.NewHello(1), OpTimeout*2); r.Type != protocol.TypeWelcome {
		t.Fatalf("hello answered by %v", r.Type)
	}
	l, err := crdt.New(crdt.NewClock(uuid.New()), "groceries")
	if err != nil {
		t.Fatal(err)
	}
	if r := request(t, s, protocol.NewPush(2, l.ID(), l.Encode()), OpTimeout*2); r.Type != protocol.TypeOK {
		t.Fatalf("push answered by %v: %v", r.Type, r.Err())
	}

	c.StopProxy()
	c.StartProxy() // returns once every server is up again

	fresh := dealer(t, c.Endpoint())
	r := request(t, fresh, protocol.NewPull(3, l.ID()), OpTimeout*2)
	if r.Type != protocol.TypePullReply || len(r.Body) == 0 {
		t.Fatalf("pull after the restart answered by %v with %d bytes", r.Type, len(r.Body))
	}
	got, err := crdt.Decode(r.Body)
	if err != nil || got.Name() != "groceries" {
		t.Fatalf("pulled %v, %v; want the list named groceries", got, err)
	}
}

// TestOneServerClusterMeetsItsQuorums: a single server is enough for
// pushes and pulls.
func TestOneServerClusterMeetsItsQuorums(t *testing.T) {
	t.Parallel()
	c := Start(t, 1)
	s := dealer(t, c.Endpoint())
	l, err := crdt.New(crdt.NewClock(uuid.New()), "solo")
	if err != nil {
		t.Fatal(err)
	}
	if r := request(t, s, protocol.NewPush(1, l.ID(), l.Encode()), OpTimeout*2); r.Type != protocol.TypeOK {
		t.Fatalf("push answered by %v: %v", r.Type, r.Err())
	}
	if r := request(t, s, protocol.NewPull(2, l.ID()), OpTimeout*2); r.Type != protocol.TypePullReply || len(r.Body) == 0 {
		t.Fatalf("pull answered by %v with %d bytes", r.Type, len(r.Body))
	}
}
