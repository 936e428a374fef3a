package proxy

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// clockwise returns every fake server in ring order from the list's
// position: the preference list first, then the fallbacks in the order the
// proxy tries them.
func clockwise(t *testing.T, p *Proxy, fakes map[string]*fakeServer, list uuid.UUID) []*fakeServer {
	t.Helper()
	v := p.view.Load()
	var out []*fakeServer
	for _, id := range v.Ring.Owners(list.String(), v.Ring.Len()) {
		out = append(out, fakes[id])
	}
	if !slices.Equal(v.Ring.Owners(list.String(), 3), p.Owners(list)) {
		t.Fatal("the walk does not start with the preference list")
	}
	return out
}

// takeDown closes the fake servers' sockets and waits until the proxy
// marks them down, heartbeating the others meanwhile.
func takeDown(t *testing.T, p *Proxy, fakes map[string]*fakeServer, down ...*fakeServer) {
	t.Helper()
	for _, s := range down {
		s.sock.Close()
	}
	waitFor(t, "servers down", func() bool {
		for _, s := range fakes {
			if !slices.Contains(down, s) {
				s.heartbeat()
			}
		}
		n := 0
		for _, m := range p.Members() {
			for _, s := range down {
				if m.ID == s.id && !m.Up {
					n++
				}
			}
		}
		return n == len(down)
	})
}

// wantHinted receives a HintedStore on s and checks its owner and body.
func wantHinted(t *testing.T, s *fakeServer, list uuid.UUID, owner string, body []byte) protocol.Message {
	t.Helper()
	m := s.recvType(protocol.TypeHintedStore)
	hb, err := protocol.DecodeHintBody(m.Body)
	if err != nil || m.ListID != list || hb.Owner != owner || !bytes.Equal(hb.List, body) {
		t.Fatalf("%s got a HintedStore of %s for %q (%v), want %s for %s with the pushed state", s.id, m.ListID, hb.Owner, err, list, owner)
	}
	return m
}

func TestPushWithADownOwnerHintsTheNextServerClockwise(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 5)
	l, body := sampleList(t, "milk")
	walk := clockwise(t, p, fakes, l.ID())
	takeDown(t, p, fakes, walk[1])

	c := newClient(t, p)
	c.send(protocol.NewPush(1, l.ID(), body))
	s0 := walk[0].recvType(protocol.TypeStore)
	walk[2].recvType(protocol.TypeStore)
	hint := wantHinted(t, walk[3], l.ID(), walk[1].id, body)
	walk[4].silent(50 * time.Millisecond) // one stand-in is enough
	// An owner's ack and the stand-in's make W=2.
	walk[0].send(protocol.NewStoreReply(s0.RequestID, l.ID()))
	c.silent(50 * time.Millisecond)
	walk[3].send(protocol.NewStoreReply(hint.RequestID, l.ID()))
	if ok := c.recvType(protocol.TypeOK); ok.RequestID != 1 {
		t.Fatalf("OK for request %d", ok.RequestID)
	}
}

func TestPushWithTwoOwnersDownReachesWOnHintsAlone(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 5)
	l, body := sampleList(t, "bread")
	walk := clockwise(t, p, fakes, l.ID())
	takeDown(t, p, fakes, walk[1], walk[2])

	c := newClient(t, p)
	c.send(protocol.NewPush(2, l.ID(), body))
	walk[0].recvType(protocol.TypeStore) // never answers
	h1 := wantHinted(t, walk[3], l.ID(), walk[1].id, body)
	h2 := wantHinted(t, walk[4], l.ID(), walk[2].id, body)
	walk[3].send(protocol.NewStoreReply(h1.RequestID, l.ID()))
	walk[4].send(protocol.NewStoreReply(h2.RequestID, l.ID()))
	c.recvType(protocol.TypeOK)
}

func TestPushFailsClearlyWhenFewerThanWServersInTheClusterAreUp(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 4)
	l, body := sampleList(t, "jam")
	walk := clockwise(t, p, fakes, l.ID())
	takeDown(t, p, fakes, walk[1], walk[2], walk[3]) // one server of four left

	c := newClient(t, p)
	c.send(protocol.NewPush(3, l.ID(), body))
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeQuorumFailed || !strings.Contains(eb.Message, "0 of 3 replicas acknowledged, need W=2") ||
		!strings.Contains(eb.Message, "no fallback server is up") {
		t.Fatalf("error %v, want QuorumFailed saying no fallback is up", eb)
	}
	walk[0].silent(100 * time.Millisecond) // nothing half-done
}

func TestPullWithOwnersDownReadsTheFallbacksAndRepairsNoFallback(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 5)
	a, b := diverged(t)
	walk := clockwise(t, p, fakes, a.ID())
	takeDown(t, p, fakes, walk[1], walk[2])

	c := newClient(t, p)
	c.send(protocol.NewPull(4, a.ID()))
	states := map[*fakeServer][]byte{walk[0]: a.Encode(), walk[3]: b.Encode(), walk[4]: nil}
	for _, s := range []*fakeServer{walk[0], walk[3], walk[4]} {
		m := s.recvType(protocol.TypeFetch)
		s.send(protocol.NewFetchReply(m.RequestID, a.ID(), states[s]))
	}
	if got := c.recvType(protocol.TypePullReply); !bytes.Equal(got.Body, b.Encode()) {
		t.Fatal("the pull did not return the state a fallback kept")
	}
	// The owner behind is repaired; the fallbacks are not.
	if m := walk[0].recvType(protocol.TypeStore); !bytes.Equal(m.Body, b.Encode()) {
		t.Fatal("the owner was repaired with the wrong state")
	}
	walk[3].silent(50 * time.Millisecond)
	walk[4].silent(50 * time.Millisecond)
}

func TestHandoffIsStoredOnTheOwnerAndAcknowledgedToTheFallback(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 4)
	l, body := sampleList(t, "tea")
	walk := clockwise(t, p, fakes, l.ID())
	owner, holder := walk[1], walk[3]

	handoff := func(from *fakeServer, reqID uint64, owner string) {
		m, err := protocol.NewHandoff(reqID, 0, l.ID(), owner, body)
		if err != nil {
			t.Fatal(err)
		}
		from.send(m)
	}
	// A fallback that does not own the list: StoreReply once the owner
	// acknowledged, and not before.
	handoff(holder, 7, owner.id)
	st := owner.recvType(protocol.TypeStore)
	if st.ListID != l.ID() || !bytes.Equal(st.Body, body) {
		t.Fatal("the owner got another state than the one handed off")
	}
	holder.silent(50 * time.Millisecond)
	owner.send(protocol.NewStoreReply(st.RequestID, l.ID()))
	if r := holder.recvType(protocol.TypeStoreReply); r.RequestID != 7 || r.ListID != l.ID() {
		t.Fatalf("StoreReply %d for %s, want 7 for %s", r.RequestID, r.ListID, l.ID())
	}
	// A fallback that owns the list itself: OK, so it keeps its copy.
	handoff(walk[0], 8, owner.id)
	st = owner.recvType(protocol.TypeStore)
	owner.send(protocol.NewStoreReply(st.RequestID, l.ID()))
	if r := walk[0].recvType(protocol.TypeOK); r.RequestID != 8 || r.ListID != l.ID() {
		t.Fatalf("OK %d for %s, want 8", r.RequestID, r.ListID)
	}
	// The owner refuses: the fallback gets the refusal and keeps its hint.
	handoff(holder, 9, owner.id)
	st = owner.recvType(protocol.TypeStore)
	owner.send(protocol.NewError(st.RequestID, protocol.CodeClockSkew, "1h ahead"))
	if eb := holder.recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != protocol.CodeClockSkew {
		t.Fatalf("refused handoff: %v", eb)
	}
}

func TestHandoffsThatCannotBeDeliveredAreRefused(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 4)
	l, body := sampleList(t, "salt")
	walk := clockwise(t, p, fakes, l.ID())
	takeDown(t, p, fakes, walk[1])
	holder := walk[3]
	cases := []struct {
		name   string
		frames [][]byte
		code   protocol.ErrorCode
	}{
		{"owner down", mustHandoff(t, 1, l.ID(), walk[1].id, body), protocol.CodeUnavailable},
		{"owner not a member", mustHandoff(t, 2, l.ID(), "s9", body), protocol.CodeNotFound},
		{"owner is the sender", mustHandoff(t, 3, l.ID(), holder.id, body), protocol.CodeBadRequest},
		{"garbage body", [][]byte{protocol.Header{Version: protocol.Version, Type: protocol.TypeHandoff, RequestID: 4, ListID: l.ID()}.Encode(), {0x92, 0xc1}}, protocol.CodeBadRequest},
	}
	for _, tc := range cases {
		holder.heartbeat()
		holder.sendFrames(tc.frames...)
		if eb := holder.recvType(protocol.TypeError).Err().(protocol.ErrorBody); eb.Code != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, eb, tc.code)
		}
	}
	for _, s := range []*fakeServer{walk[0], walk[2]} {
		s.silent(50 * time.Millisecond) // nothing was stored anywhere
	}
}

// mustHandoff returns the frames of a Handoff.
func mustHandoff(t *testing.T, reqID uint64, list uuid.UUID, owner string, body []byte) [][]byte {
	t.Helper()
	m, err := protocol.NewHandoff(reqID, 0, list, owner, body)
	if err != nil {
		t.Fatal(err)
	}
	return m.Frames()
}
