package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
)

// fakeProxy speaks the client side of the protocol from memory: one
// goroutine owns its ROUTER and PUB, merges pushes into a map, answers
// pulls with the merged state and publishes each acknowledged push. With
// loseEvery > 0 it acknowledges every loseEvery-th push without keeping
// it: a cluster that loses acknowledged writes. A Pull naming the state
// the fake holds by its hash is answered Unchanged.
type fakeProxy struct {
	client, pub string
	loseEvery   int
	lists       map[uuid.UUID]*crdt.List
	pushes      int
	wg          sync.WaitGroup
	// Pulls that carried a PullBody, and those answered Unchanged.
	knownPulls, unchanged atomic.Int64
}

func startFakeProxy(t *testing.T, loseEvery int) *fakeProxy {
	t.Helper()
	bind := func(kind zmq.Type) (*zmq.Socket, string) {
		s, err := zmq.NewSocket(kind)
		must(t, err)
		must(t, s.SetLinger(0))
		must(t, s.Bind("tcp://127.0.0.1:*"))
		ep, err := s.GetLastEndpoint()
		must(t, err)
		return s, ep
	}
	router, client := bind(zmq.ROUTER)
	pub, pubEP := bind(zmq.PUB)
	f := &fakeProxy{client: client, pub: pubEP, loseEvery: loseEvery, lists: map[uuid.UUID]*crdt.List{}}
	ctx, cancel := context.WithCancel(context.Background())
	f.wg.Go(func() { f.loop(ctx, router, pub) })
	t.Cleanup(func() {
		cancel()
		f.wg.Wait()
	})
	return f
}

func (f *fakeProxy) loop(ctx context.Context, router, pub *zmq.Socket) {
	defer router.Close()
	defer pub.Close()
	poller := zmq.NewPoller()
	poller.Add(router, zmq.POLLIN)
	for ctx.Err() == nil {
		polled, err := poller.Poll(dealer.RecvSlice)
		if err != nil || len(polled) == 0 {
			continue
		}
		frames, err := router.RecvMessageBytes(0)
		if err != nil {
			continue
		}
		identity, rest, err := protocol.SplitRouting(frames)
		if err != nil {
			continue
		}
		m, err := protocol.Parse(rest)
		if err != nil {
			continue
		}
		reply, live := f.handle(m)
		router.SendMessage(reply.AppendFrames(identity))
		if live != nil {
			if frames, err := protocol.NewLiveKey(live.ListID).Seal(*live); err == nil {
				pub.SendMessage(frames)
			}
		}
	}
}

func (f *fakeProxy) handle(m protocol.Message) (reply protocol.Message, live *protocol.Message) {
	switch m.Type {
	case protocol.TypeHello:
		w, _ := protocol.NewWelcome(m.RequestID, 0, protocol.WelcomeBody{PubEndpoint: f.pub, Endpoints: []string{f.client}})
		return w, nil
	case protocol.TypeSubscribe:
		return protocol.NewOK(m.RequestID, uuid.Nil), nil
	case protocol.TypePull:
		var body []byte
		if l := f.lists[m.ListID]; l != nil {
			body = l.Encode()
		}
		if m.Body != nil {
			f.knownPulls.Add(1)
			b, err := protocol.DecodePullBody(m.Body)
			if err != nil {
				return protocol.NewErrorFrom(m.RequestID, err), nil
			}
			if body != nil && crdt.StateHash(body) == b.Known {
				f.unchanged.Add(1)
				return protocol.NewUnchanged(m.RequestID, m.ListID), nil
			}
		}
		return protocol.NewPullReply(m.RequestID, m.ListID, body), nil
	case protocol.TypePush:
		d, err := crdt.Decode(m.Body)
		if err != nil || d.ID() != m.ListID {
			return protocol.NewError(m.RequestID, protocol.CodeInvalidList, "bad list"), nil
		}
		f.pushes++
		if f.loseEvery == 0 || f.pushes%f.loseEvery != 0 {
			if f.lists[m.ListID] == nil {
				f.lists[m.ListID] = crdt.Empty(m.ListID)
			}
			f.lists[m.ListID].Merge(d)
		}
		lu := protocol.NewLiveUpdate(m.ListID, m.Body)
		return protocol.NewOK(m.RequestID, m.ListID), &lu
	}
	return protocol.NewError(m.RequestID, protocol.CodeBadRequest, "unexpected"), nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
