package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
	"shoplist/storage"
)

// TestStoreIsDurableAndAcknowledged: a Store is answered by a StoreReply
// echoing its request and list IDs, and what it stored is in the store's
// directory after the server is closed.
func TestStoreIsDurableAndAcknowledged(t *testing.T) {
	s, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk", "eggs")
	req := p.storeMsg(l)
	reply := p.call(req)
	if reply.Type != protocol.TypeStoreReply || reply.ListID != l.ID() {
		t.Fatalf("got %v for list %s, want StoreReply for %s", reply.Type, reply.ListID, l.ID())
	}
	dir := s.cfg.Dir
	must(t, s.Close())
	st, err := storage.Open(dir, storage.Options{Logger: testLogger(t)})
	must(t, err)
	defer st.Close()
	got, err := st.Load(l.ID())
	must(t, err)
	if !bytes.Equal(got.Encode(), l.Encode()) {
		t.Fatalf("after a restart the store holds %q, want %q", got.ItemKeys(), l.ItemKeys())
	}
}

// TestFetch: a stored list comes back as its canonical encoding, merged
// with what was stored before; an unknown list is an empty FetchReply.
func TestFetch(t *testing.T) {
	_, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk")
	p.call(p.storeMsg(l))
	other := crdt.Empty(l.ID())
	must(t, other.Add(crdt.NewClock(uuid.New()), "tea", 1))
	p.call(p.storeMsg(other))
	must(t, l.Merge(other))

	reply := p.call(protocol.NewFetch(p.id(), 0, l.ID()))
	if reply.Type != protocol.TypeFetchReply || reply.ListID != l.ID() || !bytes.Equal(reply.Body, l.Encode()) {
		t.Fatalf("fetch: %v for %s with items %q; want FetchReply of %q", reply.Type, reply.ListID, itemsOf(t, reply.Body), l.ItemKeys())
	}
	unknown := uuid.New()
	reply = p.call(protocol.NewFetch(p.id(), 0, unknown))
	if reply.Type != protocol.TypeFetchReply || reply.ListID != unknown || len(reply.Body) != 0 {
		t.Fatalf("fetch of an unknown list: %v with %d bytes, want an empty FetchReply", reply.Type, len(reply.Body))
	}
}

// TestClockSkew: a list stamped beyond MaxSkew ahead of the server's clock
// is refused with ClockSkew and a message saying by how much, and is not
// stored; one within the limit is stored.
func TestClockSkew(t *testing.T) {
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, p := startWelcomed(t, func(c *Config) {
		c.Now = func() time.Time { return base }
		c.MaxSkew = 5 * time.Minute
	})
	future := newList(t, func() time.Time { return base.Add(10 * time.Minute) }, "milk")
	b := wantError(t, p.call(p.storeMsg(future)), protocol.CodeClockSkew)
	for _, want := range []string{"10m0s ahead", "at most 5m0s", future.ID().String()} {
		if !strings.Contains(b.Message, want) {
			t.Errorf("skew message %q does not say %q", b.Message, want)
		}
	}
	if r := p.call(protocol.NewFetch(p.id(), 0, future.ID())); len(r.Body) != 0 {
		t.Fatal("a refused list was stored")
	}
	// A stamp near the end of the year 9999 is refused too: its distance
	// does not fit a time.Duration and must not wrap into the past.
	farFuture := newList(t, func() time.Time { return time.UnixMilli(crdt.MaxWall) }, "tea")
	b = wantError(t, p.call(p.storeMsg(farFuture)), protocol.CodeClockSkew)
	if !strings.Contains(b.Message, "more than 100 years ahead") {
		t.Errorf("skew message %q does not say how far ahead", b.Message)
	}
	near := newList(t, func() time.Time { return base.Add(4 * time.Minute) }, "eggs")
	if r := p.call(p.storeMsg(near)); r.Type != protocol.TypeStoreReply {
		t.Fatalf("a list 4 minutes ahead: %v, want StoreReply", r.Type)
	}
}

// TestInvalidList: a body whose list ID is not the header's, and a body that
// does not decode, are refused with InvalidList.
func TestInvalidList(t *testing.T) {
	_, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk")
	other := uuid.New()
	b := wantError(t, p.call(protocol.NewStore(p.id(), 0, other, l.Encode())), protocol.CodeInvalidList)
	if !strings.Contains(b.Message, other.String()) || !strings.Contains(b.Message, l.ID().String()) {
		t.Errorf("mismatch message %q does not name both lists", b.Message)
	}
	wantError(t, p.call(protocol.NewStore(p.id(), 0, l.ID(), []byte{0x95, 0x01, 0xc0})), protocol.CodeInvalidList)
	if r := p.call(protocol.NewFetch(p.id(), 0, other)); len(r.Body) != 0 {
		t.Fatal("a refused list was stored")
	}
}

// TestConcurrentStoresOneList: 50 stores of different items to one list,
// all in flight at once, are all acknowledged and all present afterwards.
func TestConcurrentStoresOneList(t *testing.T) {
	const n = 50
	_, p := startWelcomed(t, func(c *Config) { c.Workers = 8 })
	id := newList(t, time.Now).ID()
	pending := map[uint64]bool{}
	for i := range n {
		d := crdt.Empty(id)
		must(t, d.Add(crdt.NewClock(uuid.New()), fmt.Sprintf("item %02d", i), 1))
		m := p.storeMsg(d)
		pending[m.RequestID] = true
		p.send(p.server, m)
	}
	for len(pending) > 0 {
		_, m, _ := p.recv()
		if m.Type != protocol.TypeStoreReply || !pending[m.RequestID] {
			t.Fatalf("got %v for request %d", m.Type, m.RequestID)
		}
		delete(pending, m.RequestID)
	}
	reply := p.call(protocol.NewFetch(p.id(), 0, id))
	l, err := crdt.Decode(reply.Body)
	must(t, err)
	if l.Len() != n {
		t.Fatalf("%d items after %d stores: %q", l.Len(), n, l.ItemKeys())
	}
}

// TestOverloaded: with every worker busy and the queue full, further
// requests are answered Unavailable at once instead of waiting; the queued
// ones are served once the worker frees up.
func TestOverloaded(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	_, p := startWelcomed(t, func(c *Config) {
		c.Workers = 1
		c.beforeJob = func() {
			started <- struct{}{}
			<-release
		}
	})
	l := newList(t, time.Now, "milk")
	send := func() uint64 {
		m := p.storeMsg(l)
		p.send(p.server, m)
		return m.RequestID
	}
	first := send()
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the worker never took the first request")
	}
	queued := map[uint64]bool{first: true}
	for range queuePerWorker {
		queued[send()] = true
	}
	for range 3 {
		id := send()
		_, m, _ := p.recv()
		if m.RequestID != id {
			t.Fatalf("reply to request %d while waiting for the refusal of %d", m.RequestID, id)
		}
		if b := wantError(t, m, protocol.CodeUnavailable); !strings.Contains(b.Message, "overloaded") {
			t.Fatalf("refusal says %q, want it to say overloaded", b.Message)
		}
	}
	close(release)
	go func() { // later jobs signal too; nobody needs those signals
		for range started {
		}
	}()
	for len(queued) > 0 {
		_, m, _ := p.recv()
		if m.Type != protocol.TypeStoreReply || !queued[m.RequestID] {
			t.Fatalf("got %v for request %d, want a StoreReply of a queued request", m.Type, m.RequestID)
		}
		delete(queued, m.RequestID)
	}
	close(started)
}

// TestEpochs: an announced epoch is adopted (OK) and stamped on replies;
// a request routed under an older epoch is refused StaleEpoch, one under
// epoch 0 (unknown) is served; an older announcement is refused.
func TestEpochs(t *testing.T) {
	s, p := startWelcomed(t, nil)
	announce := func(epoch uint64) protocol.Message {
		m, err := protocol.NewEpochAnnounce(p.id(), protocol.EpochBody{Epoch: epoch, N: 3, VNodes: 3,
			Members: []protocol.Member{{ID: s.ID(), State: protocol.MemberUp}}})
		must(t, err)
		return p.call(m)
	}
	if r := announce(5); r.Type != protocol.TypeOK || r.Epoch != 5 {
		t.Fatalf("announcing epoch 5: %v at epoch %d, want OK at 5", r.Type, r.Epoch)
	}
	l := newList(t, time.Now, "milk")
	wantError(t, p.call(protocol.NewStore(p.id(), 4, l.ID(), l.Encode())), protocol.CodeStaleEpoch)
	for _, e := range []uint64{0, 5, 6} {
		if r := p.call(protocol.NewStore(p.id(), e, l.ID(), l.Encode())); r.Type != protocol.TypeStoreReply || r.Epoch != 5 {
			t.Fatalf("store under epoch %d: %v at epoch %d, want StoreReply at 5", e, r.Type, r.Epoch)
		}
	}
	wantError(t, announce(4), protocol.CodeStaleEpoch)
	if r := announce(5); r.Type != protocol.TypeOK {
		t.Fatalf("announcing the current epoch again: %v, want OK", r.Type)
	}
}

// TestCloseIsPrompt: Close does not wait for a poll timeout or a heartbeat
// interval: the doorbell gets the loop out of its poll.
func TestCloseIsPrompt(t *testing.T) {
	p := newFakeProxy(t)
	s, err := Start(t.Context(), Config{Dir: t.TempDir(), Proxies: []string{p.dial()},
		Heartbeat: time.Minute, Logger: testLogger(t)})
	must(t, err)
	p.welcome(1)
	start := time.Now()
	must(t, s.Close())
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with a one-minute heartbeat", d)
	}
	must(t, s.Close()) // twice is fine
}

// TestAProxyThatNoLongerKnowsTheServerGetsAHelloAtOnce: a proxy restarted
// on the same endpoint keeps the connection busy (it answers the server's
// requests with NotWelcomed), so the link never goes silent; the server
// must say hello again on that answer instead of waiting for silence.
func TestAProxyThatNoLongerKnowsTheServerGetsAHelloAtOnce(t *testing.T) {
	s, p := startWelcomed(t, nil)
	p.send(p.server, protocol.NewError(77, protocol.CodeNotWelcomed, "unknown server: send ServerHello first"))
	identity, m := p.expectHello()
	if serverOf(t, identity) != s.ID() || m.Type != protocol.TypeServerHello {
		t.Fatalf("got %v from %q, want a ServerHello from %s", m.Type, identity, s.ID())
	}
}
