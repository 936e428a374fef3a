package proxy

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// hostileFrames are messages no peer should send, each with the error code
// the proxy must answer with (0: no answer expected, the request ID being
// unreadable is answered with an Error of request ID 0 all the same).
func hostileFrames(t *testing.T) []struct {
	name   string
	frames [][]byte
	code   protocol.ErrorCode
} {
	list := uuid.New()
	good := protocol.NewPull(77, list)
	hdr := good.Frames()[0]
	badVersion := protocol.Header{Version: 9, Type: protocol.TypePull, RequestID: 77, ListID: list}.Encode()
	unknown := protocol.Header{Version: 1, Type: 200, RequestID: 77}.Encode()
	nilList := protocol.Header{Version: 1, Type: protocol.TypePush, RequestID: 77}.Encode()
	v1 := uuid.UUID{1, 2, 3, 4, 5, 6, 0x10, 8, 0x80, 10, 11, 12, 13, 14, 15, 16} // a version 1 UUID
	badID := append(append([]byte{0x95, 1, 4, 77, 0xc4, 16}, v1[:]...), 0)
	return []struct {
		name   string
		frames [][]byte
		code   protocol.ErrorCode
	}{
		{"one frame", [][]byte{hdr}, protocol.CodeBadRequest},
		{"five frames", [][]byte{hdr, nil, nil, nil, nil}, protocol.CodeBadRequest},
		{"garbage header", [][]byte{[]byte("GET / HTTP/1.1"), nil}, protocol.CodeBadRequest},
		{"oversize header", [][]byte{bytes.Repeat([]byte{0x90}, 100), nil}, protocol.CodeTooLarge},
		{"wrong version", [][]byte{badVersion, nil}, protocol.CodeUnsupportedVersion},
		{"unknown type", [][]byte{unknown, nil}, protocol.CodeUnknownType},
		{"push without list ID", [][]byte{nilList, []byte{1}}, protocol.CodeBadRequest},
		{"version 1 list ID", [][]byte{badID, nil}, protocol.CodeBadRequest},
		{"oversize pull body", [][]byte{hdr, make([]byte, protocol.MaxControlBodySize+1)}, protocol.CodeTooLarge},
		{"oversize subscribe", subscribeFrames(t, make([]byte, protocol.MaxControlBodySize+1)), protocol.CodeTooLarge},
		{"server message", protocol.NewFetch(77, 0, list).Frames(), protocol.CodeBadRequest},
	}
}

func subscribeFrames(t *testing.T, body []byte) [][]byte {
	m, err := protocol.NewSubscribe(77, uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{m.Frames()[0], body}
}

func TestHostileClientFramesGetErrorsAndTheProxyKeepsServing(t *testing.T) {
	p := startProxy(t, nil)
	c := newClient(t, p)
	for _, h := range hostileFrames(t) {
		c.sendFrames(h.frames...)
		m := c.recvType(protocol.TypeError)
		eb := m.Err().(protocol.ErrorBody)
		if eb.Code != h.code {
			t.Errorf("%s: code %v (%s), want %v", h.name, eb.Code, eb.Message, h.code)
		}
	}
	// Random garbage from many clients, then a well-behaved Hello.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		bad := newClient(t, p)
		n := 1 + rng.IntN(4)
		frames := make([][]byte, n)
		for j := range frames {
			frames[j] = make([]byte, rng.IntN(80))
			for k := range frames[j] {
				frames[j][k] = byte(rng.Uint32())
			}
		}
		bad.sendFrames(frames...)
		if i%50 == 0 {
			c.send(protocol.NewHello(uint64(i + 1)))
			c.recvType(protocol.TypeWelcome)
		}
	}
	c.send(protocol.NewHello(999))
	w := c.recvType(protocol.TypeWelcome)
	body, err := protocol.DecodeWelcomeBody(w.Body)
	if err != nil || body.PubEndpoint != p.Endpoints().PubEndpoint() || len(body.Endpoints) != 1 || body.Endpoints[0] != p.Endpoints().ClientEndpoint() {
		t.Fatalf("welcome %+v, %v", body, err)
	}
}

func TestHostileBackendFramesGetErrorsAndServersKeepServing(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	// An admitted server gone bad: its key gets it past the handshake.
	rogue := backendEndpoint(t, p, "rogue", admit(t, p, "rogue"))
	for _, h := range hostileFrames(t) {
		if h.name == "server message" || h.name == "oversize subscribe" {
			continue // legal types on the wrong socket are covered below
		}
		rogue.sendFrames(h.frames...)
		if eb := rogue.recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != h.code {
			t.Errorf("%s: code %v (%s), want %v", h.name, eb.Code, eb.Message, h.code)
		}
	}
	// A server that has not said hello is refused.
	handoff, err := protocol.NewHandoff(6, 0, uuid.New(), "s1", []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	rogue.send(handoff)
	if eb := rogue.recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != protocol.CodeNotWelcomed {
		t.Errorf("request before hello: %v", eb)
	}
	// A hello naming another server's ID than its key's is refused.
	hello, _ := protocol.NewServerHello(5, 0, "s1")
	rogue.send(hello)
	if eb := rogue.recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != protocol.CodeNotAdmitted {
		t.Errorf("hello with another server's ID: %v", eb)
	}
	// A rogue cannot answer for a server: a forged StoreReply is ignored,
	// and the push waits for the real owners.
	l, body := sampleList(t, "salt")
	c := newClient(t, p)
	c.send(protocol.NewPush(1, l.ID(), body))
	own := owners(t, p, fakes, l.ID())
	var reqs []uint64
	for _, s := range own {
		reqs = append(reqs, s.recvType(protocol.TypeStore).RequestID)
	}
	own[0].send(protocol.NewStoreReply(reqs[0], l.ID()))
	own[0].send(protocol.NewStoreReply(reqs[0], l.ID())) // a duplicate counts once
	rogue.send(protocol.NewStoreReply(reqs[1], l.ID()))
	c.silent(100 * time.Millisecond)
	own[1].send(protocol.NewStoreReply(reqs[1], l.ID()))
	c.recvType(protocol.TypeOK)
}
