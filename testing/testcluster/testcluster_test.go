package testcluster

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
)

// dial returns a connection to endpoint whose requests wait twice
// OpTimeout for their reply.
func dial(t *testing.T, endpoint string) *dealer.Conn {
	t.Helper()
	c, err := dealer.DialConn(endpoint, 2*OpTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expect sends m on c and returns the reply, failing the test unless it
// came in time with type want.
func expect(t *testing.T, c *dealer.Conn, m protocol.Message, want protocol.Type) protocol.Message {
	t.Helper()
	r, err := c.Expect(context.Background(), m, want)
	if err != nil {
		t.Fatalf("%v: %v", m.Type, err)
	}
	return r
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
	s := dial(t, c.Endpoint())
	expect(t, s, protocol.NewHello(0), protocol.TypeWelcome)
	l, err := crdt.New(crdt.NewClock(uuid.New()), "groceries")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, s, protocol.NewPush(0, l.ID(), l.Encode()), protocol.TypeOK)

	c.StopProxy()
	c.StartProxy() // returns once every server is up again

	fresh := dial(t, c.Endpoint())
	r := expect(t, fresh, protocol.NewPull(0, l.ID()), protocol.TypePullReply)
	if len(r.Body) == 0 {
		t.Fatalf("pull after the restart answered with no list")
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
	s := dial(t, c.Endpoint())
	l, err := crdt.New(crdt.NewClock(uuid.New()), "solo")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, s, protocol.NewPush(0, l.ID(), l.Encode()), protocol.TypeOK)
	if r := expect(t, s, protocol.NewPull(0, l.ID()), protocol.TypePullReply); len(r.Body) == 0 {
		t.Fatalf("pull answered with no list")
	}
}
