package proxy

import (
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// TestAClientKeyGetsAtMostMaxSubscriptionsApplied: with a cap of two, a
// subscriber that asks for three lists' topics receives live updates of
// the first two only, while another client key subscribed to the third
// receives its updates (so they were published).
func TestAClientKeyGetsAtMostMaxSubscriptionsApplied(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.MaxSubscriptions = 2 })
	fakes := joinServers(t, p, 3)
	eps := p.Endpoints()
	var lists []uuid.UUID
	var bodies [][]byte
	for _, name := range []string{"one", "two", "three"} {
		l, body := sampleList(t, name)
		lists, bodies = append(lists, l.ID()), append(bodies, body)
	}
	greedy := newCurveEndpoint(t, zmq.SUB, "", eps.Pub, eps.ClientKey, newKeyPair(t))
	for _, id := range lists {
		must(t, greedy.sock.SetSubscribe(string(protocol.NewLiveKey(id).Topic())))
	}
	other := newCurveEndpoint(t, zmq.SUB, "", eps.Pub, eps.ClientKey, newKeyPair(t))
	must(t, other.sock.SetSubscribe(string(protocol.NewLiveKey(lists[2]).Topic())))

	c := newClient(t, p)
	req := uint64(0)
	push := func(i int) {
		req++
		c.send(protocol.NewPush(req, lists[i], bodies[i]))
		for _, s := range owners(t, p, fakes, lists[i]) {
			m := s.recvType(protocol.TypeStore)
			s.send(protocol.NewStoreReply(m.RequestID, lists[i]))
		}
		c.recvType(protocol.TypeOK)
	}
	// heard returns the list of each live update sub received within d.
	heard := func(sub *endpoint, d time.Duration) map[uuid.UUID]bool {
		got := map[uuid.UUID]bool{}
		for {
			frames, ok := sub.recvFrames(d)
			if !ok {
				return got
			}
			for _, id := range lists {
				if m, err := protocol.NewLiveKey(id).Open(frames); err == nil {
					got[m.ListID] = true
				}
			}
		}
	}
	// Push all three until the greedy subscriber hears the first two and
	// the other hears the third: every subscription was processed by then.
	greedyHeard, otherHeard := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	deadline := time.Now().Add(testTimeout)
	for !greedyHeard[lists[0]] || !greedyHeard[lists[1]] || !otherHeard[lists[2]] {
		if time.Now().After(deadline) {
			t.Fatalf("greedy heard %v, other %v", greedyHeard, otherHeard)
		}
		for i := range lists {
			push(i)
		}
		for id := range heard(greedy, 50*time.Millisecond) {
			greedyHeard[id] = true
		}
		for id := range heard(other, 50*time.Millisecond) {
			otherHeard[id] = true
		}
	}
	if greedyHeard[lists[2]] {
		t.Fatal("the third subscription of a client key capped at two was applied")
	}
	push(2)
	if got := heard(greedy, 200*time.Millisecond); got[lists[2]] {
		t.Fatal("the third subscription of a client key capped at two was applied")
	}
	if n := statusOf(t, p).Counters.SubscriptionsRefused; n == 0 {
		t.Fatal("the refused subscription was not counted")
	}
}
