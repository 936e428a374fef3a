package proxy

import (
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// TestAClientCannotHaveALiveUpdatePublished: a LiveUpdate is taken only
// from another proxy of the group; from a client it gets BadRequest and
// reaches no subscriber.
func TestAClientCannotHaveALiveUpdatePublished(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	eps := p.Endpoints()
	l, body := sampleList(t, "forged")
	sub := newCurveEndpoint(t, zmq.SUB, "", eps.Pub, eps.ClientKey, newKeyPair(t))
	must(t, sub.sock.SetSubscribe(string(protocol.NewLiveKey(l.ID()).Topic())))
	c := newClient(t, p)
	pushUntilHeard(t, p, fakes, c, sub, l.ID(), body)
	c.send(protocol.NewLiveUpdate(l.ID(), body))
	if e := c.recvType(protocol.TypeError); protocol.CodeOf(e.Err()) != protocol.CodeBadRequest {
		t.Fatalf("a client's LiveUpdate: %v, want BadRequest", e.Err())
	}
	sub.silent(200 * time.Millisecond)
}
