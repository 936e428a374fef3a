package integration

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/proxy"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Hostile peers, proxy side: malformed and hostile frames sent to the proxy's
// client and backend sockets get Error replies, crash nothing, and a
// well-behaved client is served all along.
func TestHostileFramesToTheProxyGetErrorsWhileAGoodClientIsServed(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 5)
	eps := h.proxy.Endpoints()

	// The well-behaved client pushes and pulls, from its own goroutine,
	// until the barrage is over; every request must succeed.
	var served atomic.Int64
	good, stop, goodDone := h.client(), make(chan struct{}), make(chan error, 1)
	goodList := pushNew(t, good, "good")
	go func() {
		goodDone <- func() error {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return nil
				default:
				}
				delta, err := goodList.add(fmt.Sprintf("good %d", i), 1)
				if err == nil {
					err = good.push(goodList.id(), delta)
				}
				if err == nil {
					_, err = good.pull(goodList.id())
				}
				if err != nil {
					return fmt.Errorf("good client, round %d: %w", i, err)
				}
				served.Add(1)
			}
		}()
	}()

	before := served.Load()
	for round := range 5 {
		clientBarrage(t, eps.ClientEndpoint())
		backendBarrage(t, h, eps)
		rawTCPGarbage(t, eps.Client)
		rawTCPGarbage(t, eps.Backend)
		if t.Failed() {
			t.Fatalf("round %d of the barrage failed", round)
		}
	}
	during := served.Load() - before
	close(stop)
	if err := <-goodDone; err != nil {
		t.Fatal(err)
	}
	if during == 0 {
		t.Error("the good client completed no push and pull during the barrage")
	}
	t.Logf("the good client completed %d push+pull rounds during the barrage", during)

	// The proxy is alive and every server still in the ring and up: no
	// hostile hello took a real server's place.
	if _, err := h.client().hello(); err != nil {
		t.Fatalf("hello after the barrage: %v", err)
	}
	h.waitMembers(h.running(), nil)
	for _, m := range h.proxy.Members() {
		if m.ID == "mallory" {
			t.Errorf("the hostile backend peer joined the ring")
		}
	}
}

// clientBarrage sends every hostile message to the client endpoint from a
// fresh DEALER and checks each Error.
func clientBarrage(t *testing.T, endpoint string) {
	t.Helper()
	p := newRawPeer(t, zmq.DEALER, "")
	connect(t, p.sock, endpoint)
	list := uuid.New()
	cases := frameMessages(100, protocol.NewPull(101, list).Frames()[0])
	cases = append(cases, listMessages(t, protocol.TypePush, 200)...)
	sub, err := protocol.NewSubscribe(300, list)
	must(t, err)
	cases = append(cases,
		hostile{"server message on the client socket", protocol.NewFetch(301, 0, list).Frames(), 301, protocol.CodeBadRequest},
		hostile{"subscribe with a garbage body", [][]byte{sub.Frames()[0], []byte{0xc1}}, 300, protocol.CodeBadRequest},
		hostile{"pull with a body", [][]byte{protocol.NewPull(302, list).Frames()[0], []byte("surprise")}, 302, protocol.CodeBadRequest},
	)
	for _, h := range cases {
		p.expect(t, h, nil)
	}
}

// backendBarrage sends hostile messages to the backend from a DEALER that
// never said a valid hello, and checks each Error. Its key is admitted (as
// mallory's): a key that is not gets no further than the handshake
// (admission_test.go).
func backendBarrage(t *testing.T, h *inproc, eps proxy.Endpoints) {
	t.Helper()
	p := newRawPeer(t, zmq.DEALER, "mallory")
	key, err := curvekey.Generate()
	must(t, err)
	must(t, h.reg.Admit(context.Background(), "mallory", key.Public))
	must(t, curveClient(p.sock, eps.BackendKey, key))
	must(t, p.sock.Connect(eps.Backend))
	list := uuid.New()
	stolen, err := protocol.NewServerHello(401, 0, "s0") // a real server's ID
	must(t, err)
	helloHdr := stolen.Frames()[0]
	cases := frameMessages(400, protocol.NewFetch(401, 0, list).Frames()[0])
	cases = append(cases,
		hostile{"hello naming another server", stolen.Frames(), 401, protocol.CodeNotAdmitted},
		hostile{"hello with a garbage body", [][]byte{helloHdr, []byte{0x91, 0xc1}}, 401, protocol.CodeBadRequest},
		hostile{"request before hello", protocol.NewStore(402, 0, list, []byte{1}).Frames(), 402, protocol.CodeNotWelcomed},
		hostile{"oversize store", [][]byte{protocol.NewStore(403, 0, list, nil).Frames()[0], make([]byte, protocol.MaxListSize+1)}, 403, protocol.CodeTooLarge},
	)
	for _, h := range cases {
		p.expect(t, h, nil)
	}
	// Stray replies and heartbeats are dropped without an answer: the next
	// answer is the one to the request sent after them.
	p.send(t, protocol.NewStoreReply(999, list).Frames()...)
	p.send(t, protocol.NewHeartbeat(0).Frames()...)
	p.expect(t, hostile{"request after stray replies", protocol.NewFetch(404, 0, list).Frames(), 404, protocol.CodeNotWelcomed}, nil)
}

// rawTCPGarbage connects to a ZeroMQ endpoint with plain TCP and writes
// bytes that are not ZMTP.
func rawTCPGarbage(t *testing.T, endpoint string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(endpoint, "tcp://"))
	must(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET / HTTP/1.1\r\nHost: shoplist\r\n\r\n\xff\x00\x01garbage"))
	must(t, err)
}
