package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// TestNewListTokens: a client may begin as many pushes that may create a
// list as it has tokens; a push that created nothing gives its token back;
// tokens come back at the rate, up to the cap; and a bucket that is full
// and idle again is dropped.
func TestNewListTokens(t *testing.T) {
	n := newNewListLimit(3)
	now := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if !n.begin("k", now) {
			t.Fatalf("push %d of 3 held no token", i)
		}
	}
	if n.begin("k", now) {
		t.Fatal("a fourth push in flight held a token")
	}
	n.end("k", false, now) // an existing list: the token comes back
	if !n.begin("k", now) {
		t.Fatal("the token of a push that created nothing did not come back")
	}
	for range 3 {
		n.end("k", true, now)
	}
	if n.begin("k", now.Add(19*time.Second)) {
		t.Fatal("a token came back in 19 s at 3 a minute")
	}
	if !n.begin("k", now.Add(21*time.Second)) {
		t.Fatal("no token came back in 21 s at 3 a minute")
	}
	n.end("k", true, now.Add(21*time.Second))
	later := now.Add(10 * time.Minute)
	for i := range 3 {
		if !n.begin("k", later) {
			t.Fatalf("after ten minutes push %d held no token: the cap is not refilled", i)
		}
		n.end("k", false, later)
	}
	n.sweep(later)
	if len(n.buckets) != 0 {
		t.Fatalf("%d buckets kept once full and idle", len(n.buckets))
	}
	if off := newNewListLimit(-1); !off.begin("k", now) || len(off.buckets) != 0 {
		t.Fatal("without a cap a push held a token")
	}
}

// storeAll has every owner of list receive a request of type want and
// answer it with what answer returns for it.
func storeAll(t *testing.T, own []*fakeServer, want protocol.Type, answer func(i int, m protocol.Message) protocol.Message) {
	t.Helper()
	for i, s := range own {
		m := s.recvType(want)
		s.send(answer(i, m))
	}
}

// TestNewListCap: a client may create one new list a minute here. A push
// that only some replicas had not held is no new list; the next new list
// is created; past the cap a push goes as StoreExisting, and one of a
// list no replica holds is refused NewListLimit while one of a list the
// replicas hold goes through; a minute later the client may create a list
// again.
func TestNewListCap(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.NewListsPerMinute = 1 })
	fakes := joinServers(t, p, 3)
	c := namedClient(t, p, "dave")
	created := func(_ int, m protocol.Message) protocol.Message {
		return protocol.NewStoreCreated(m.RequestID, m.ListID)
	}
	held := func(_ int, m protocol.Message) protocol.Message { return protocol.NewStoreReply(m.RequestID, m.ListID) }
	id := uint64(0)
	push := func(list uuid.UUID, want protocol.Type, answer func(int, protocol.Message) protocol.Message) protocol.Message {
		t.Helper()
		id++
		c.send(protocol.NewPush(id, list, bodyOf(100)))
		storeAll(t, owners(t, p, fakes, list), want, answer)
		for {
			m := c.recv()
			if m.RequestID == id {
				waitFor(t, "the push to end", func() bool { a, _, _ := accountOf(t, p, "dave"); return a.ops == 0 })
				return m
			}
		}
	}
	ok := func(m protocol.Message, what string) {
		t.Helper()
		if m.Type != protocol.TypeOK {
			t.Fatalf("%s: %v (%v), want OK", what, m.Type, m.Err())
		}
	}
	existing := uuid.New()
	mixed := func(i int, m protocol.Message) protocol.Message { // one replica had missed it
		if i == 0 {
			return created(i, m)
		}
		return held(i, m)
	}
	ok(push(existing, protocol.TypeStore, mixed), "a push of a list two replicas held")
	ok(push(uuid.New(), protocol.TypeStore, created), "the first new list")
	newList := uuid.New()
	m := push(newList, protocol.TypeStoreExisting, func(_ int, m protocol.Message) protocol.Message {
		e := protocol.NewError(m.RequestID, protocol.CodeNotFound, "this server holds nothing of the list")
		e.ListID = m.ListID
		return e
	})
	if eb, isErr := m.Err().(protocol.ErrorBody); !isErr || eb.Code != protocol.CodeNewListLimit || !strings.Contains(eb.Message, "at most 1 new lists a minute") {
		t.Fatalf("a second new list in the minute got %v (%v), want NewListLimit", m.Type, m.Err())
	}
	ok(push(existing, protocol.TypeStoreExisting, held), "a push of a list the replicas hold, past the cap")
	loopState(t, p, func(l *loop) {
		if len(l.newLists.buckets) != 1 {
			t.Errorf("%d new-list buckets, want dave's alone", len(l.newLists.buckets))
		}
		for _, b := range l.newLists.buckets { // dave's, by the key of his connection
			b.at = l.now.Add(-time.Minute)
		}
	})
	ok(push(newList, protocol.TypeStore, created), "a new list a minute later")
	if st := statusOf(t, p); st.Counters.NewListsRefused != 1 {
		t.Fatalf("%d pushes counted refused past the cap, want 1", st.Counters.NewListsRefused)
	}
}

// TestTheNewListCapFollowsTheClientsKeyAcrossConnections: a client that
// used its one new list of the minute on one connection is refused a new
// list on another connection with the same key, while a client with
// another key may create one.
func TestTheNewListCapFollowsTheClientsKeyAcrossConnections(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.NewListsPerMinute = 1 })
	fakes := joinServers(t, p, 3)
	eps := p.Endpoints()
	erin := newKeyPair(t)
	first := newCurveEndpoint(t, zmq.DEALER, "erin-1", eps.Client, eps.ClientKey, erin)
	second := newCurveEndpoint(t, zmq.DEALER, "erin-2", eps.Client, eps.ClientKey, erin)
	other := newCurveEndpoint(t, zmq.DEALER, "frank", eps.Client, eps.ClientKey, newKeyPair(t))
	push := func(c *endpoint, reqID uint64, want protocol.Type) protocol.Message {
		t.Helper()
		list := uuid.New()
		c.send(protocol.NewPush(reqID, list, bodyOf(100)))
		storeAll(t, owners(t, p, fakes, list), want, func(_ int, m protocol.Message) protocol.Message {
			if m.Type == protocol.TypeStoreExisting {
				e := protocol.NewError(m.RequestID, protocol.CodeNotFound, "this server holds nothing of the list")
				e.ListID = m.ListID
				return e
			}
			return protocol.NewStoreCreated(m.RequestID, m.ListID)
		})
		return c.recv()
	}
	if m := push(first, 1, protocol.TypeStore); m.Type != protocol.TypeOK {
		t.Fatalf("erin's first new list: %v (%v)", m.Type, m.Err())
	}
	waitFor(t, "erin's push to end", func() bool { a, _, _ := accountOf(t, p, "erin-1"); return a.ops == 0 })
	if m := push(second, 2, protocol.TypeStoreExisting); protocol.CodeOf(m.Err()) != protocol.CodeNewListLimit {
		t.Fatalf("erin's second new list, on another connection: %v (%v), want NewListLimit", m.Type, m.Err())
	}
	if m := push(other, 3, protocol.TypeStore); m.Type != protocol.TypeOK {
		t.Fatalf("another client's new list: %v (%v)", m.Type, m.Err())
	}
}
