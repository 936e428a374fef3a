package proxy

import (
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// TestClientsReachTheProxyOnlyOverCURVEWithItsKey: a client that pins the
// proxy's key is welcomed; one without CURVE, or pinning another key, gets
// no byte back, so nothing posing as this proxy's client socket could have
// answered it either (the handshake proves the key both ways).
func TestClientsReachTheProxyOnlyOverCURVEWithItsKey(t *testing.T) {
	p := startProxy(t, nil)
	eps := p.Endpoints()
	if eps.ClientKey == "" || !strings.HasSuffix(eps.ClientEndpoint(), "#"+eps.ClientKey) || !strings.HasSuffix(eps.PubEndpoint(), "#"+eps.ClientKey) {
		t.Fatalf("endpoints %+v: want the client and PUB endpoints to carry the proxy's key", eps)
	}

	plain := newEndpoint(t, zmq.DEALER, "", eps.Client)
	plain.send(protocol.NewHello(1))
	wrongKey := newCurveEndpoint(t, zmq.DEALER, "", eps.Client, newKeyPair(t).Public, newKeyPair(t))
	wrongKey.send(protocol.NewHello(1))

	pinned := newClient(t, p)
	pinned.send(protocol.NewHello(1))
	w := pinned.recvType(protocol.TypeWelcome)
	body, err := protocol.DecodeWelcomeBody(w.Body)
	if err != nil || body.PubEndpoint != eps.PubEndpoint() {
		t.Fatalf("welcome %+v, %v: want the PUB endpoint with the key", body, err)
	}
	// The pinned client's Welcome came; the others' Hellos went out at
	// the same time, so a further second is ample for theirs.
	plain.silent(time.Second)
	wrongKey.silent(time.Second)
}

// TestTheProxyPublishesOnlyToCURVESubscribers: a subscriber to every topic
// that pins the proxy's key receives a live update; one without CURVE
// receives nothing.
func TestTheProxyPublishesOnlyToCURVESubscribers(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	eps := p.Endpoints()
	pinned := newCurveEndpoint(t, zmq.SUB, "", eps.Pub, eps.ClientKey, newKeyPair(t))
	must(t, pinned.sock.SetSubscribe(""))
	plain := newEndpoint(t, zmq.SUB, "", eps.Pub)
	must(t, plain.sock.SetSubscribe(""))

	c := newClient(t, p)
	l, body := sampleList(t, "milk")
	// Once the pinned subscriber has an update, both subscriptions were in
	// place for the plain one's to have arrived as well.
	pushUntilHeard(t, p, fakes, c, pinned, l.ID(), body)
	plain.silent(time.Second)
}
