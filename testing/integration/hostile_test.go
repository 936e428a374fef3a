package integration

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Hostile messages, each with the Error a receiver must
// answer it with.

// hostile is one message no honest peer sends.
type hostile struct {
	name   string
	frames [][]byte           // as the sending DEALER (or, to a server, the ROUTER after the identity) sends them
	reqID  uint64             // the request ID the Error must carry
	code   protocol.ErrorCode // the Error's code
}

// listMessages returns the hostile messages about lists, for the type t
// (Push to a proxy, Store to a server), the first request ID being id. The
// list-body ones are refused by the servers, which decode lists.
func listMessages(t *testing.T, typ protocol.Type, id uint64) []hostile {
	t.Helper()
	own := newReplica(t, "hostile")
	other := newReplica(t, "other")
	future := crdt.NewClockWith(uuid.New(), func() time.Time { return time.Now().Add(time.Hour) })
	ahead, err := crdt.New(future, "from the future")
	must(t, err)
	hdr := func(id uint64, list uuid.UUID) []byte {
		return protocol.Header{Version: protocol.Version, Type: typ, RequestID: id, ListID: list}.Encode()
	}
	return []hostile{
		{"no list ID", [][]byte{hdr(id, uuid.Nil), own.state()}, id, protocol.CodeBadRequest},
		{"empty body", [][]byte{hdr(id+1, own.id()), nil}, id + 1, protocol.CodeBadRequest},
		{"body that is not a list", [][]byte{hdr(id+2, own.id()), []byte("not a list")}, id + 2, protocol.CodeInvalidList},
		{"body of another list", [][]byte{hdr(id+3, own.id()), other.state()}, id + 3, protocol.CodeInvalidList},
		{"list stamped an hour ahead", [][]byte{hdr(id+4, ahead.ID()), ahead.Encode()}, id + 4, protocol.CodeClockSkew},
		{"oversize body", [][]byte{hdr(id+5, own.id()), make([]byte, protocol.MaxListSize+1)}, id + 5, protocol.CodeTooLarge},
	}
}

// frameMessages returns hostile messages that break the envelope, the first
// request ID being id; header is a valid header frame of request ID id+1.
func frameMessages(id uint64, header []byte) []hostile {
	return []hostile{
		{"garbage header", [][]byte{[]byte("GET / HTTP/1.1"), nil}, 0, protocol.CodeBadRequest},
		{"one frame", [][]byte{header}, id + 1, protocol.CodeBadRequest},
		{"three frames", [][]byte{header, nil, nil}, id + 1, protocol.CodeBadRequest},
		{"oversize header", [][]byte{bytes.Repeat([]byte{0x90}, protocol.MaxHeaderSize+1), nil}, 0, protocol.CodeTooLarge},
		{"protocol version 2", [][]byte{protocol.Header{Version: 2, Type: protocol.TypePull, RequestID: id + 2, ListID: uuid.New()}.Encode(), nil}, id + 2, protocol.CodeUnsupportedVersion},
		{"unknown type", [][]byte{protocol.Header{Version: protocol.Version, Type: 99, RequestID: id + 3}.Encode(), nil}, id + 3, protocol.CodeUnknownType},
	}
}

// rawPeer is a socket that sends what it is told, used by one goroutine.
type rawPeer struct {
	sock   *zmq.Socket
	poller *zmq.Poller
	prefix [][]byte // frames sent before each message: a ROUTER's peer identity
}

func newRawPeer(t *testing.T, kind zmq.Type, identity string) *rawPeer {
	t.Helper()
	s := newSocket(t, kind)
	if identity != "" {
		must(t, s.SetIdentity(identity))
	}
	p := zmq.NewPoller()
	p.Add(s, zmq.POLLIN)
	return &rawPeer{sock: s, poller: p}
}

// curveClient makes s a CURVE client with pair that accepts only the
// server whose public key is serverKey.
func curveClient(s *zmq.Socket, serverKey string, pair curvekey.Pair) error {
	for _, err := range []error{s.SetCurveServerkey(serverKey), s.SetCurvePublickey(pair.Public), s.SetCurveSecretkey(pair.Secret)} {
		if err != nil {
			return err
		}
	}
	return nil
}

// send sends frames after the peer's prefix.
func (r *rawPeer) send(t *testing.T, frames ...[]byte) {
	t.Helper()
	msg := append(append([][]byte(nil), r.prefix...), frames...)
	_, err := r.sock.SendMessage(msg)
	must(t, err)
}

// recv returns the next message, without the prefix, skipping those skip
// accepts.
func (r *rawPeer) recv(t *testing.T, skip func(protocol.Message) bool) protocol.Message {
	t.Helper()
	deadline := time.Now().Add(requestTimeout)
	for {
		frames, err := recvUntil(r.sock, r.poller, deadline)
		must(t, err)
		m, err := protocol.Parse(frames[len(r.prefix):])
		must(t, err)
		if skip == nil || !skip(m) {
			return m
		}
	}
}

// expect sends h and checks the Error it gets.
func (r *rawPeer) expect(t *testing.T, h hostile, skip func(protocol.Message) bool) {
	t.Helper()
	r.send(t, h.frames...)
	m := r.recv(t, skip)
	eb, ok := m.Err().(protocol.ErrorBody)
	switch {
	case !ok:
		t.Errorf("%s: answered by %v %d, want Error %v", h.name, m.Type, m.RequestID, h.code)
	case m.RequestID != h.reqID || eb.Code != h.code:
		t.Errorf("%s: Error %v (%s) for request %d, want %v for request %d", h.name, eb.Code, eb.Message, m.RequestID, h.code, h.reqID)
	case eb.Message == "":
		t.Errorf("%s: Error %v without a message", h.name, eb.Code)
	}
}
