package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// TestHostileFrames: malformed and unexpected messages from the proxy's
// side get an Error with the right code, addressed to the request ID where
// it can be read, or are dropped when they are replies or notifications;
// none stops the server from serving the good request sent after each.
func TestHostileFrames(t *testing.T) {
	srv, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk")
	list := l.ID()
	hinted := func(reqID uint64, body []byte) [][]byte {
		return [][]byte{protocol.Header{Version: protocol.Version, Type: protocol.TypeHintedStore, RequestID: reqID, ListID: list}.Encode(), body}
	}
	header := func(version, typ byte, id uint64) []byte {
		h := protocol.Header{Version: protocol.Version, Type: protocol.Type(typ), RequestID: id, ListID: list}.Encode()
		h[1] = version
		return h
	}
	store := byte(protocol.TypeStore)
	badEpoch, err := protocol.NewEpochAnnounce(77, protocol.EpochBody{Epoch: 3, N: 3, VNodes: 3})
	must(t, err)
	badEpoch.Body = []byte{0x94, 0x03, 0x03}

	cases := []struct {
		name   string
		frames [][]byte
		reqID  uint64             // the Error's request ID
		code   protocol.ErrorCode // 0: no answer expected
	}{
		{"garbage in one frame", [][]byte{[]byte("\xffnot msgpack at all")}, 0, protocol.CodeBadRequest},
		{"one frame", [][]byte{header(1, store, 11)}, 11, protocol.CodeBadRequest},
		{"five frames", [][]byte{header(1, store, 12), l.Encode(), {1}, {2}, {3}}, 12, protocol.CodeBadRequest},
		{"wrong version", [][]byte{header(2, store, 13), l.Encode()}, 13, protocol.CodeUnsupportedVersion},
		{"unknown type", [][]byte{header(1, 99, 14), l.Encode()}, 14, protocol.CodeUnknownType},
		{"oversize body", [][]byte{header(1, store, 15), make([]byte, protocol.MaxListSize+1)}, 15, protocol.CodeTooLarge},
		{"oversize header", [][]byte{append(header(1, store, 16), make([]byte, 64)...), l.Encode()}, 16, protocol.CodeTooLarge},
		{"store without a body", [][]byte{header(1, store, 17), nil}, 17, protocol.CodeBadRequest},
		{"client type", protocol.NewPush(18, list, l.Encode()).Frames(), 18, protocol.CodeBadRequest},
		{"server hello sent to a server", mustMsg(protocol.NewServerHello(19, 0, "x")).Frames(), 19, protocol.CodeBadRequest},
		{"undecodable epoch body", badEpoch.Frames(), 77, protocol.CodeBadRequest},
		{"heartbeat with a request ID", [][]byte{protocol.Header{Version: 1, Type: protocol.TypeHeartbeat, RequestID: 20}.Encode(), nil}, 20, protocol.CodeBadRequest},
		{"hinted store with a garbage body", hinted(21, []byte{0x92, 0xc1}), 21, protocol.CodeBadRequest},
		{"hinted store naming a bad owner", hinted(24, append([]byte{0x92, 0xa2, ' ', '!'}, 0xc4, 1, 1)), 24, protocol.CodeBadRequest},
		{"hinted store naming this server", mustMsg(protocol.NewHintedStore(25, 0, list, srv.ID(), l.Encode())).Frames(), 25, protocol.CodeBadRequest},
		{"hinted store of another list", mustMsg(protocol.NewHintedStore(26, 0, uuid.New(), "s2", l.Encode())).Frames(), 26, protocol.CodeInvalidList},
		{"hinted store of garbage", mustMsg(protocol.NewHintedStore(27, 0, list, "s2", []byte{0xc1})).Frames(), 27, protocol.CodeInvalidList},
		{"handoff sent to a server", mustMsg(protocol.NewHandoff(28, 0, list, "s2", l.Encode())).Frames(), 28, protocol.CodeBadRequest},
		{"a reply", protocol.NewStoreReply(22, list).Frames(), 0, 0},
		{"an error with a bad body", [][]byte{protocol.NewError(23, protocol.CodeInternal, "x").Header.Encode(), {0xc1}}, 0, 0},
		{"a notification epoch", mustMsg(protocol.NewEpochAnnounce(0, protocol.EpochBody{Epoch: 2, N: 1, VNodes: 1})).Frames(), 0, 0},
		{"a live update", protocol.NewLiveUpdate(list, l.Encode()).Frames(), 0, 0},
	}
	for _, c := range cases {
		p.sendFrames(p.server, c.frames...)
		if c.code != 0 {
			_, m, _ := p.recv()
			if m.RequestID != c.reqID {
				t.Fatalf("%s: reply %v has request ID %d, want %d", c.name, m.Type, m.RequestID, c.reqID)
			}
			if b := wantError(t, m, c.code); b.Message == "" {
				t.Fatalf("%s: Error without a message", c.name)
			}
		}
		// A good request right after: its reply comes next (a dropped
		// message left nothing in between), and the server still serves.
		probe := protocol.NewFetch(p.id(), 0, uuid.New())
		if r := p.call(probe); r.Type != protocol.TypeFetchReply {
			t.Fatalf("after %s: the probe got %v", c.name, r.Type)
		}
	}
	if r := p.call(p.storeMsg(l)); r.Type != protocol.TypeStoreReply {
		t.Fatalf("a good store after the barrage: %v", r.Type)
	}
	if r := p.call(protocol.NewFetch(p.id(), 0, list)); !bytes.Equal(r.Body, l.Encode()) {
		t.Fatalf("a good fetch after the barrage: %v", r.Type)
	}
	if n := srv.Store().HintCount(); n != 0 {
		t.Fatalf("refused hinted stores left %d hints", n)
	}
}

// mustMsg unwraps a constructor's result.
func mustMsg(m protocol.Message, err error) protocol.Message {
	if err != nil {
		panic(err)
	}
	return m
}
