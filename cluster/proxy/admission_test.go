package proxy

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/membership"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// monitorSeq numbers the inproc addresses of socket monitors.
var monitorSeq atomic.Uint64

// monitoredBackendEndpoint connects to p's backend like backendEndpoint,
// with a monitor of its connection events set up before it connects.
func monitoredBackendEndpoint(t *testing.T, p *Proxy, identity string, pair curvekey.Pair) (*endpoint, *zmq.Socket) {
	t.Helper()
	s, err := zmq.NewSocket(zmq.DEALER)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	s.SetLinger(0)
	must(t, s.SetIdentity(identity))
	must(t, curveClient(s, p.Endpoints().BackendKey, pair))
	addr := fmt.Sprintf("inproc://proxy-test-monitor-%d", monitorSeq.Add(1))
	must(t, s.Monitor(addr, zmq.EVENT_HANDSHAKE_SUCCEEDED|zmq.EVENT_HANDSHAKE_FAILED_AUTH|zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL))
	mon, err := zmq.NewSocket(zmq.PAIR)
	must(t, err)
	t.Cleanup(func() { mon.Close() })
	mon.SetLinger(0)
	must(t, mon.Connect(addr))
	must(t, s.Connect(p.Endpoints().Backend))
	return &endpoint{t: t, sock: s}, mon
}

// nextEvent waits for the monitor's next event and returns it with its
// value (the ZAP status code of a refused handshake).
func nextEvent(t *testing.T, mon *zmq.Socket) (zmq.Event, int) {
	t.Helper()
	must(t, mon.SetRcvtimeo(testTimeout))
	ev, _, value, err := mon.RecvEvent(0)
	if err != nil {
		t.Fatalf("no connection event within %v: %v", testTimeout, err)
	}
	return ev, value
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// registryOf returns the proxy's membership, a Registry in these tests.
func registryOf(t *testing.T, p *Proxy) *membership.Registry {
	t.Helper()
	r, ok := p.members.(*membership.Registry)
	if !ok {
		t.Fatalf("membership %T is not a Registry", p.members)
	}
	return r
}

// upMembers returns the IDs of the members the proxy routes to.
func upMembers(p *Proxy) []string {
	var out []string
	for _, m := range p.Members() {
		if m.Up {
			out = append(out, m.ID)
		}
	}
	return out
}

// storeReachesOwners pushes a list and checks that its owners among fakes
// receive the Store, then acknowledges it: the servers still serve.
func storeReachesOwners(t *testing.T, p *Proxy, fakes map[string]*fakeServer) {
	t.Helper()
	c := newClient(t, p)
	l, body := sampleList(t, "tea")
	c.send(protocol.NewPush(1, l.ID(), body))
	for _, s := range owners(t, p, fakes, l.ID()) {
		m := s.recvType(protocol.TypeStore)
		s.send(protocol.NewStoreReply(m.RequestID, l.ID()))
	}
	c.recvType(protocol.TypeOK)
}

func TestAKeyNotAdmittedIsRefusedAtTheHandshake(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	// A rogue with a key of its own, claiming an honest server's ID and
	// routing identity: the handshake fails, so nothing it sends arrives.
	rogue, mon := monitoredBackendEndpoint(t, p, "s1", newKeyPair(t))
	hello, err := protocol.NewServerHello(1, 0, "s1")
	must(t, err)
	rogue.send(hello)
	if ev, status := nextEvent(t, mon); ev != zmq.EVENT_HANDSHAKE_FAILED_AUTH || status != 400 {
		t.Fatalf("rogue's handshake: %v (status %d), want EVENT_HANDSHAKE_FAILED_AUTH 400", ev, status)
	}
	waitFor(t, "the refusal counted", func() bool { return statusOf(t, p).Counters.HandshakesRefused > 0 })
	if got := strings.Join(upMembers(p), " "); got != "s1 s2 s3" {
		t.Fatalf("members up %q, want s1 s2 s3", got)
	}
	storeReachesOwners(t, p, fakes)
	// It never had a connection, so nothing can have come back to it.
	if frames, ok := rogue.recvFrames(0); ok {
		t.Fatalf("the rogue received %x", frames)
	}
}

func TestAKeyAdmittedForOneServerCannotSpeakForAnother(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	// s7's key gets its holder past the handshake, but only as s7. (Its
	// routing identity is its own: real servers name each socket with a
	// random part that no other can guess, see cluster/server's link.)
	rogue := backendEndpoint(t, p, "s7", admit(t, p, "s7"))
	for i, id := range []string{"s1", "s9"} {
		hello, err := protocol.NewServerHello(uint64(10+i), 0, id)
		must(t, err)
		rogue.send(hello)
		eb := rogue.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
		if eb.Code != protocol.CodeNotAdmitted || !strings.Contains(eb.Message, "admitted for server s7") {
			t.Fatalf("hello as %s with s7's key: %v, want NotAdmitted naming s7", id, eb)
		}
	}
	if got := strings.Join(upMembers(p), " "); got != "s1 s2 s3" {
		t.Fatalf("members up %q, want s1 s2 s3", got)
	}
	storeReachesOwners(t, p, fakes)
	// Under its own ID it joins.
	hello, err := protocol.NewServerHello(12, 0, "s7")
	must(t, err)
	rogue.send(hello)
	rogue.recvType(protocol.TypeServerWelcome)
}

func TestANewKeyForAServerShutsOutTheOldOne(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	// s1 is admitted with a new key (its old one leaked, say): the proxy
	// forgets the connection made with the old key at once.
	fresh := newKeyPair(t)
	must(t, registryOf(t, p).Admit(context.Background(), "s1", fresh.Public))
	waitFor(t, "s1 forgotten", func() bool { return strings.Join(upMembers(p), " ") == "s2 s3" })
	handoff, err := protocol.NewHandoff(6, 0, uuid.New(), "s2", []byte{1})
	must(t, err)
	fakes["s1"].send(handoff)
	if eb := fakes["s1"].recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != protocol.CodeNotAdmitted {
		t.Fatalf("a request with the old key: %v, want NotAdmitted", eb)
	}
	// The same ID with the new key is welcomed.
	again := backendEndpoint(t, p, "s1-new", fresh)
	hello, err := protocol.NewServerHello(1, 0, "s1")
	must(t, err)
	again.send(hello)
	again.recvType(protocol.TypeServerWelcome)
}

func TestRevokingAServerCutsItOff(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	must(t, registryOf(t, p).Revoke(context.Background(), "s2"))
	waitFor(t, "s2 forgotten", func() bool { return strings.Join(upMembers(p), " ") == "s1 s3" })
	// Its connection is still open, but nothing it sends counts.
	hello, err := protocol.NewServerHello(3, 0, "s2")
	must(t, err)
	fakes["s2"].send(hello)
	if eb := fakes["s2"].recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != protocol.CodeNotAdmitted {
		t.Fatalf("hello after the revocation: %v, want NotAdmitted", eb)
	}
	// A new connection with its key fails the handshake.
	refusedBefore := statusOf(t, p).Counters.HandshakesRefused
	_, mon := monitoredBackendEndpoint(t, p, "s2-again", fakes["s2"].pair)
	if ev, status := nextEvent(t, mon); ev != zmq.EVENT_HANDSHAKE_FAILED_AUTH || status != 400 {
		t.Fatalf("a new connection with a revoked key: %v (status %d), want EVENT_HANDSHAKE_FAILED_AUTH 400", ev, status)
	}
	if got := statusOf(t, p).Counters.HandshakesRefused; got <= refusedBefore {
		t.Fatalf("refused handshakes %d, want more than %d", got, refusedBefore)
	}
	storeReachesUp(t, p, fakes)
}

// storeReachesUp pushes a list and acknowledges the Stores its owners
// among fakes that are up receive: the push succeeds without the others.
func storeReachesUp(t *testing.T, p *Proxy, fakes map[string]*fakeServer) {
	t.Helper()
	c := newClient(t, p)
	l, body := sampleList(t, "rice")
	c.send(protocol.NewPush(1, l.ID(), body))
	up := upMembers(p)
	for _, id := range up {
		s := fakes[id]
		m := s.recvType(protocol.TypeStore)
		s.send(protocol.NewStoreReply(m.RequestID, l.ID()))
	}
	c.recvType(protocol.TypeOK)
}
