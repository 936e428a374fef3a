package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// TestClientWindowHoldsTheLastMessagesSent: the window's sum is the sizes
// of the last clientWindowLen messages, each pushing the oldest out once
// it is full.
func TestClientWindowHoldsTheLastMessagesSent(t *testing.T) {
	var w clientWindow
	for i := range clientWindowLen {
		if out := w.push(1000); out != 0 {
			t.Fatalf("message %d pushed out %d bytes before the window was full", i, out)
		}
	}
	if w.sum != 1000*clientWindowLen {
		t.Fatalf("sum %d after %d messages of 1000 bytes", w.sum, clientWindowLen)
	}
	for i := range clientWindowLen {
		if out := w.push(10); out != 1000 {
			t.Fatalf("small message %d pushed out %d bytes, want the oldest large one", i, out)
		}
	}
	if w.sum != 10*clientWindowLen {
		t.Fatalf("sum %d once only small messages are in the window, want %d", w.sum, 10*clientWindowLen)
	}
}

// TestServerQueueIsReleasedByAReply: a reply to a request releases it and
// every request sent before it, in order; a reply to nothing queued
// releases nothing; clear releases the rest; and the queue never holds
// more than ZeroMQ can.
func TestServerQueueIsReleasedByAReply(t *testing.T) {
	var q serverQueue
	var released []uint64
	done := func(e queuedRequest) { released = append(released, e.reqID) }
	for id := uint64(1); id <= 5; id++ {
		q.push(id*10, 100, nil, done)
	}
	q.received(30, done)
	if len(released) != 3 || released[0] != 10 || released[2] != 30 || q.len() != 2 {
		t.Fatalf("a reply to the third request released %v, %d left; want 10, 20, 30 and 2 left", released, q.len())
	}
	q.received(30, done) // again: nothing more
	q.received(99, done) // not ours
	if len(released) != 3 {
		t.Fatalf("replies to nothing queued released %v", released[3:])
	}
	q.clear(done)
	if len(released) != 5 || q.len() != 0 {
		t.Fatalf("clear released %v, %d left", released, q.len())
	}
	released = nil
	for id := range uint64(serverQueueMax + 3) {
		q.push(id+1, 1, nil, done)
	}
	if q.len() != serverQueueMax || len(released) != 3 || released[0] != 1 {
		t.Fatalf("%d queued, %d let go (first %v); want %d and the 3 oldest", q.len(), len(released), released, serverQueueMax)
	}
}

// testBudget returns a budget with round shares: limit 1000, a client's
// share 400, a reserve of 200 for clients holding at most 100.
func testBudget() *memBudget {
	b := newMemBudget(MinMemoryBudget, 3)
	b.limit, b.perClient, b.reserve, b.light = 1000, 400, 200, 100
	return b
}

// TestAdmissionKeepsAClientWithinItsShareAndTheTotalWithinTheLimit: a
// request is refused Unavailable when it would take its client past its
// share, or everyone past the limit; what a client's window holds counts
// like what its ops hold.
func TestAdmissionKeepsAClientWithinItsShareAndTheTotalWithinTheLimit(t *testing.T) {
	b := testBudget()
	a := b.client("a")
	if m := b.admit(a, 400, 1); m != nil {
		t.Fatalf("a request of the whole share was refused: %v", m.Err())
	}
	b.hold(a, 300)
	b.sent(a, 50)
	m := b.admit(a, 51, 2)
	if m == nil {
		t.Fatal("a request past the client's share was admitted")
	}
	if eb := m.Err().(protocol.ErrorBody); eb.Code != protocol.CodeUnavailable || !strings.Contains(eb.Message, "memory budget") || m.RequestID != 2 {
		t.Fatalf("refused with %v (request %d), want Unavailable naming the memory budget", eb, m.RequestID)
	}
	if b.admit(a, 50, 3) != nil {
		t.Fatal("a request that just fits the share was refused")
	}
	for _, k := range []string{"b", "c"} { // fill the total: 350 + 2 × 300 = 950
		b.hold(b.client(k), 300)
	}
	if b.admit(b.client("d"), 60, 4) == nil {
		t.Fatal("a request past the limit was admitted")
	}
	if b.refused != 2 {
		t.Fatalf("%d refusals counted, want 2", b.refused)
	}
}

// TestTheReserveIsForLightClients: once the total is within the reserve
// of the limit, a client holding little is still admitted and one holding
// much is not; the duties never use the reserve.
func TestTheReserveIsForLightClients(t *testing.T) {
	b := testBudget()
	heavy, normal := b.client("heavy"), b.client("normal")
	b.hold(heavy, 400)
	b.hold(b.client("other"), 390) // 790: under limit − reserve = 800
	if b.admit(heavy, 1, 1) == nil {
		t.Fatal("the heavy client was admitted past its share")
	}
	b.hold(b.client("third"), 50) // 840: in the reserve
	b.sent(normal, 20)
	if m := b.admit(normal, 30, 2); m != nil {
		t.Fatalf("a light client was refused in the reserve: %v", m.Err())
	}
	if m := b.admit(normal, 90, 3); m == nil || !strings.Contains(m.Err().Error(), "kept for clients holding less") {
		t.Fatalf("a request taking a client past light in the reserve: %v", m)
	}
	if ok, _ := b.fits(&b.repair, 1); ok {
		t.Fatal("a read repair was let into the reserve")
	}
	b.hold(b.client("other"), -100) // 760 in all
	if ok, _ := b.fits(&b.repair, 10); !ok {
		t.Fatal("a read repair under limit − reserve was refused")
	}
}

// TestAClientGoneIsForgottenOnceNothingHoldsIt: a client whose connection
// is gone loses its window at once, and its account once its ops end.
func TestAClientGoneIsForgottenOnceNothingHoldsIt(t *testing.T) {
	b := testBudget()
	a := b.client("a")
	b.sent(a, 100)
	a.ops = 1
	b.hold(a, 50)
	b.gone(a)
	if b.total != 50 || b.clients["a"] != a {
		t.Fatalf("total %d, account kept %v: want the op's 50 bytes and the account", b.total, b.clients["a"] == a)
	}
	a.ops = 0
	b.hold(a, -50)
	b.forgetIfIdle(a)
	if b.total != 0 || b.clients["a"] != nil || b.forgotten != 1 {
		t.Fatalf("total %d, account %v, forgotten %d after the op ended", b.total, b.clients["a"], b.forgotten)
	}
}

// bodyOf returns n bytes standing for a list: the proxy compares
// replicas' bytes and decodes nothing when they agree.
func bodyOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// accountOf returns a copy of the client account with key, and the total.
func accountOf(t *testing.T, p *Proxy, key string) (acct account, total int64, ok bool) {
	t.Helper()
	loopState(t, p, func(l *loop) {
		if a := l.mem.clients[key]; a != nil {
			acct, ok = *a, true
		}
		total = l.mem.total
	})
	return acct, total, ok
}

// TestAPullHoldsItsAnswersUntilItEnds: a pull holds what it reserved and
// the answers it keeps until every replica has answered; then only its
// reply, in the client's window, is counted, and the Fetches are no
// longer queued.
func TestAPullHoldsItsAnswersUntilItEnds(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.MemoryBudget = MinMemoryBudget })
	fakes := joinServers(t, p, 3)
	c := namedClient(t, p, "alice")
	list := uuid.New()
	body := bodyOf(1 << 20)
	c.send(protocol.NewPull(1, list))
	own := owners(t, p, fakes, list)
	var fetches []protocol.Message
	for _, s := range own {
		fetches = append(fetches, s.recvType(protocol.TypeFetch))
	}
	own[0].send(protocol.NewFetchReply(fetches[0].RequestID, list, body))
	own[1].send(protocol.NewFetchReply(fetches[1].RequestID, list, body))
	if r := c.recvType(protocol.TypePullReply); len(r.Body) != len(body) {
		t.Fatalf("pull reply of %d bytes", len(r.Body))
	}
	a, _, _ := accountOf(t, p, "alice")
	if a.held < int64(2*len(body)) || a.queued == 0 || a.window.sum < int64(len(body)) {
		t.Fatalf("while a replica has not answered: held %d, queued %d, window %d; want two answers held, a Fetch queued, the reply in the window",
			a.held, a.queued, a.window.sum)
	}
	own[2].send(protocol.NewFetchReply(fetches[2].RequestID, list, body))
	waitFor(t, "the pull to end", func() bool {
		a, total, _ := accountOf(t, p, "alice")
		return a.held == 0 && a.queued == 0 && a.ops == 0 && total == a.window.sum
	})
}

// TestAClientPastItsShareIsRefusedUntilItsWindowMovesOn: replies of a
// large list fill a client's window; past its share its pulls are refused
// Unavailable, whether it read the replies or not (the proxy cannot see
// what it read); once enough small replies have followed, the large ones
// are out of the window and a pull is admitted again.
func TestAClientPastItsShareIsRefusedUntilItsWindowMovesOn(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.MemoryBudget = MinMemoryBudget })
	fakes := joinServers(t, p, 3)
	c := namedClient(t, p, "bob")
	list := uuid.New()
	body := bodyOf(3 << 20)
	own := owners(t, p, fakes, list)
	id := uint64(0)
	// pull pulls the list, answering every Fetch it brings with body, and
	// returns the client's answer once the pull has ended.
	pull := func() protocol.Message {
		t.Helper()
		id++
		c.send(protocol.NewPull(id, list))
		var reply protocol.Message
		answered := 0
		deadline := time.Now().Add(testTimeout)
		for reply.Type == 0 || (answered > 0 && answered < len(own)) {
			if time.Now().After(deadline) {
				t.Fatalf("pull %d: answer %v, %d Fetches answered", id, reply.Type, answered)
			}
			if frames, ok := c.recvFrames(time.Millisecond); ok {
				if m, err := protocol.Parse(frames); err == nil && m.RequestID == id {
					reply = m
				}
			}
			for _, s := range own {
				if f, ok := s.recvFrames(0); ok {
					if m, _ := protocol.Parse(f); m.Type == protocol.TypeFetch {
						s.send(protocol.NewFetchReply(m.RequestID, list, body))
						answered++
					}
				}
			}
		}
		waitFor(t, "the pull to end", func() bool { a, _, _ := accountOf(t, p, "bob"); return a.ops == 0 })
		return reply
	}
	replies := 0
	for ; replies < 10; replies++ {
		m := pull()
		if m.Type == protocol.TypeError {
			eb := m.Err().(protocol.ErrorBody)
			if eb.Code != protocol.CodeUnavailable || !strings.Contains(eb.Message, "memory budget") {
				t.Fatalf("pull %d refused with %v", id, eb)
			}
			break
		}
	}
	if replies == 0 || replies == 10 {
		t.Fatalf("%d pulls of a 3 MiB list answered before the first refusal; want a few", replies)
	}
	for range clientWindowLen { // small replies push the large ones out
		id++
		c.send(protocol.NewHello(id))
		c.recvType(protocol.TypeWelcome)
	}
	if m := pull(); m.Type != protocol.TypePullReply {
		t.Fatalf("once the window moved on, a pull got %v (%v)", m.Type, m.Err())
	}
}

// TestASilentClientIsForgottenOnlyOnceItsConnectionIsGone: a client that
// has been silent is sent a Heartbeat; while its connection is there its
// account stays, and once it has closed its socket the next Heartbeat
// finds it gone and its account is forgotten.
func TestASilentClientIsForgottenOnlyOnceItsConnectionIsGone(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	loopState(t, p, func(l *loop) { l.mem.forgetAfter = 200 * time.Millisecond })
	c := namedClient(t, p, "carol")
	c.send(protocol.NewHello(1))
	c.recvType(protocol.TypeWelcome)
	c.recvType(protocol.TypeHeartbeat) // silent long enough: asked whether it is there
	if _, _, ok := accountOf(t, p, "carol"); !ok {
		t.Fatal("a connected client's account was forgotten")
	}
	c.sock.Close()
	waitFor(t, "the closed client to be forgotten", func() bool {
		_, total, ok := accountOf(t, p, "carol")
		return !ok && total == 0
	})
	if st := statusOf(t, p); st.Counters.ClientsForgotten != 1 || st.Counters.Clients != 0 {
		t.Fatalf("%d clients forgotten, %d accounts; want 1 and 0", st.Counters.ClientsForgotten, st.Counters.Clients)
	}
}
