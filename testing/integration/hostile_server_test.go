package integration

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/server"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Hostile peers, server side. A server only connects out, to its proxies, so
// the test plays a hostile proxy: it binds the ROUTER the server connects
// to, welcomes it, then sends malformed and hostile frames, each followed by
// a valid Fetch to show that the server keeps serving.
func TestHostileFramesToAServerGetErrorsAndItKeepsServing(t *testing.T) {
	t.Parallel()
	fake := newRawPeer(t, zmq.ROUTER, "")
	key, err := curvekey.Generate()
	must(t, err)
	must(t, fake.sock.SetCurveServer(1))
	must(t, fake.sock.SetCurveSecretkey(key.Secret))
	must(t, fake.sock.Bind("tcp://127.0.0.1:*"))
	ep, err := fake.sock.GetLastEndpoint()
	must(t, err)
	s, err := server.Start(context.Background(), server.Config{
		Dir:       t.TempDir(),
		ID:        "target",
		Proxies:   []string{curvekey.JoinEndpoint(ep, key.Public)},
		Heartbeat: time.Second, // the exchanges below are far shorter: no reconnection meanwhile
		Logger:    testLogger(t),
	})
	must(t, err)
	t.Cleanup(func() { s.Close() })

	// The server names its socket ID/RANDOM: the first message tells.
	first, err := recvUntil(fake.sock, fake.poller, time.Now().Add(requestTimeout))
	must(t, err)
	if !strings.HasPrefix(string(first[0]), "target/") {
		t.Fatalf("the server's socket identity is %q, want target/RANDOM", first[0])
	}
	fake.prefix = first[:1]
	hello, err := protocol.Parse(first[1:])
	must(t, err)
	if hello.Type != protocol.TypeServerHello {
		t.Fatalf("the server's first message is %v, want ServerHello", hello.Type)
	}
	fake.send(t, protocol.NewServerWelcome(hello.RequestID, 0).Frames()...)
	// Heartbeats, reports, and a repeated hello if the server ever thinks
	// us gone, are not answers.
	chatter := func(m protocol.Message) bool {
		if m.Type == protocol.TypeServerHello {
			fake.send(t, protocol.NewServerWelcome(m.RequestID, 0).Frames()...)
		}
		return m.Type == protocol.TypeHeartbeat || m.Type == protocol.TypeServerHello || m.Type == protocol.TypeServerReport
	}

	list := newReplica(t, "kept")
	fake.send(t, protocol.NewStore(1, 0, list.id(), list.state()).Frames()...)
	if m := fake.recv(t, chatter); m.Type != protocol.TypeStoreReply || m.RequestID != 1 || m.ListID != list.id() {
		t.Fatalf("valid Store answered by %v %d for %s, want StoreReply 1 for %s (%v)", m.Type, m.RequestID, m.ListID, list.id(), m.Err())
	}
	fetchID := uint64(1000)
	assertServes := func(after string) {
		t.Helper()
		fetchID++
		fake.send(t, protocol.NewFetch(fetchID, 0, list.id()).Frames()...)
		m := fake.recv(t, chatter)
		if m.Type != protocol.TypeFetchReply || m.RequestID != fetchID || !bytes.Equal(m.Body, list.state()) {
			t.Fatalf("after %s: Fetch answered by %v %d (%v), want FetchReply %d with the stored list", after, m.Type, m.RequestID, m.Err(), fetchID)
		}
	}
	assertServes("the valid Store")

	other := uuid.New()
	cases := frameMessages(100, protocol.NewFetch(101, 0, other).Frames()[0])
	cases = append(cases, listMessages(t, protocol.TypeStore, 200)...)
	cases = append(cases,
		hostile{"client request to a server", protocol.NewPush(300, other, list.state()).Frames(), 300, protocol.CodeBadRequest},
		hostile{"fetch with a body", [][]byte{protocol.NewFetch(301, 0, other).Frames()[0], []byte("surprise")}, 301, protocol.CodeBadRequest},
		hostile{"epoch announce with a garbage body", [][]byte{protocol.Header{Version: protocol.Version, Type: protocol.TypeEpochAnnounce, RequestID: 302, Epoch: 5}.Encode(), []byte{0x94, 0xc1}}, 302, protocol.CodeBadRequest},
	)
	for _, h := range cases {
		fake.expect(t, h, chatter)
		assertServes(h.name)
	}
	// Nothing hostile was stored: the refused lists are not there.
	for _, h := range cases {
		if len(h.frames) == 2 {
			if hdr, err := protocol.ParseHeader(h.frames[0]); err == nil && hdr.ListID != uuid.Nil && hdr.ListID != list.id() {
				if ok, err := s.Store().Has(hdr.ListID); err != nil || ok {
					t.Errorf("%s: the server stored list %s (%v)", h.name, hdr.ListID, err)
				}
			}
		}
	}
}
