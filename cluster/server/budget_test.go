package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// TestMemBudgetTakesWhatFits: take counts bytes while they fit and refuses
// (counting the refusal) what would pass the limit; release gives them
// back; force counts past the limit.
func TestMemBudgetTakesWhatFits(t *testing.T) {
	b := memBudget{limit: 100}
	if !b.take(60) || !b.take(40) {
		t.Fatal("60 + 40 bytes did not fit a budget of 100")
	}
	if b.take(1) || b.refused.Load() != 1 {
		t.Fatalf("a byte past the limit was taken (refused %d)", b.refused.Load())
	}
	b.release(40)
	if !b.take(30) || b.used.Load() != 90 {
		t.Fatalf("after a release: used %d, want 90", b.used.Load())
	}
	b.force(50)
	if b.used.Load() != 140 {
		t.Fatalf("force: used %d, want 140", b.used.Load())
	}
	b.release(140)
	if b.used.Load() != 0 {
		t.Fatalf("everything released: used %d", b.used.Load())
	}
	// Concurrent takers never pass the limit together.
	b = memBudget{limit: 1000}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards taken
	taken := 0
	for range 50 {
		wg.Go(func() {
			for range 100 {
				if b.take(7) {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if taken != 1000/7 || b.used.Load() != int64(7*taken) {
		t.Fatalf("%d takes of 7 fit a budget of 1000, used %d; want %d", taken, b.used.Load(), 1000/7)
	}
}

// bigList returns a list of about 3.8 MiB encoded (5000 items with long
// names, notes and categories), and its encoding.
func bigList(t testing.TB) (*crdt.List, []byte) {
	t.Helper()
	c := crdt.NewClock(uuid.New())
	l, err := crdt.New(c, "big")
	must(t, err)
	for i := range crdt.MaxItems {
		name := fmt.Sprintf("%05d %s", i, strings.Repeat("x", 190))
		must(t, l.Add(c, name, 1))
		must(t, l.SetNote(c, name, strings.Repeat("n", 200)))
		must(t, l.SetCategory(c, name, strings.Repeat("c", 64)))
	}
	return l, l.Encode()
}

// gatedWorkers returns a beforeJob hook that holds each of the first n
// jobs until its gate is opened: open(i) lets the i-th job (from 0)
// through, and started receives i when the i-th job reaches its gate.
// The test opens every gate when it ends (openAll, registered once the
// server has started, so that it runs before the server closes), or a
// failed test's server would never close.
func gatedWorkers(n int) (hook func(), started <-chan int, open func(i int), openAll func()) {
	gates := make([]chan struct{}, n)
	once := make([]sync.Once, n)
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	open = func(i int) { once[i].Do(func() { close(gates[i]) }) }
	st := make(chan int, n)
	var mu sync.Mutex // guards next
	next := 0
	hook = func() {
		mu.Lock()
		i := next
		next++
		mu.Unlock()
		if i >= n {
			return
		}
		st <- i
		<-gates[i]
	}
	openAll = func() {
		for i := range n {
			open(i)
		}
	}
	return hook, st, open, openAll
}

// TestQueuedRequestsAreBoundedInBytes: with the workers held, Stores of a
// large list are taken while their bytes fit the memory budget and refused
// with Unavailable past it, however few they are in messages (the queue
// holds 16 per worker); a small one still fits the room left. Once the
// workers go on, every request taken is acknowledged and the budget is
// whole again.
func TestQueuedRequestsAreBoundedInBytes(t *testing.T) {
	l, enc := bigList(t) // before the server starts: building it takes longer than its patience
	hook, started, open, openAll := gatedWorkers(1)
	s, p := startWelcomed(t, func(c *Config) {
		c.Workers = 1
		c.MemoryBudget = MinMemoryBudget
		c.beforeJob = hook
		// The fake proxy sends no heartbeat while the test loads the large
		// list: the server must not give it up as silent meanwhile.
		c.Heartbeat = time.Minute
	})
	t.Cleanup(openAll)
	fits := int(MinMemoryBudget / (int64(len(enc)) + messageOverhead))
	if fits < 2 || fits >= queuePerWorker {
		t.Fatalf("%d stores of %d bytes fit the budget: the test needs between 2 and %d", fits, len(enc), queuePerWorker-1)
	}
	taken := map[uint64]bool{}
	send := func() uint64 {
		m := protocol.NewStore(p.id(), 0, l.ID(), enc)
		p.send(p.server, m)
		return m.RequestID
	}
	taken[send()] = true
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the worker never took the first store")
	}
	for range fits - 1 {
		taken[send()] = true
	}
	for range 2 { // past the budget: refused at once, though the queue has room
		id := send()
		_, m, _ := p.recv()
		if m.RequestID != id {
			t.Fatalf("reply to request %d while waiting for the refusal of %d", m.RequestID, id)
		}
		if b := wantError(t, m, protocol.CodeUnavailable); !strings.Contains(b.Message, "memory budget") {
			t.Fatalf("refusal says %q, want it to name the memory budget", b.Message)
		}
	}
	if held := s.Stats().MemoryHeld; held < int64(fits*len(enc)) || held > MinMemoryBudget {
		t.Fatalf("%d bytes held with %d stores of %d bytes taken; budget %d", held, fits, len(enc), MinMemoryBudget)
	}
	small := newList(t, time.Now, "milk")
	sm := p.storeMsg(small)
	p.send(p.server, sm) // the room left takes it
	taken[sm.RequestID] = true
	open(0)
	for len(taken) > 0 {
		_, m, _ := p.recv()
		if m.Type != protocol.TypeStoreReply || !taken[m.RequestID] {
			t.Fatalf("got %v for request %d, want the StoreReply of a request taken", m.Type, m.RequestID)
		}
		delete(taken, m.RequestID)
	}
	deadline := time.Now().Add(wait)
	for s.Stats().MemoryHeld != 0 { // the last reply is released once the loop has sent it
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still held once every request was answered", s.Stats().MemoryHeld)
		}
		time.Sleep(time.Millisecond)
	}
	if r := s.Stats().MemoryRefused; r != 2 {
		t.Fatalf("%d refusals counted, want 2", r)
	}
}

// TestAReplyThatDoesNotFitIsReplacedByAnError: a Fetch whose reply (a
// large list) finds the budget taken by queued Stores is answered
// Unavailable instead of holding the list; once the budget has room, the
// same Fetch returns the list.
func TestAReplyThatDoesNotFitIsReplacedByAnError(t *testing.T) {
	l, enc := bigList(t)
	hook, started, open, openAll := gatedWorkers(2)
	s, p := startWelcomed(t, func(c *Config) {
		c.Workers = 2
		c.MemoryBudget = MinMemoryBudget
		c.beforeJob = hook
		// The fake proxy sends no heartbeat while the test loads the large
		// list: the server must not give it up as silent meanwhile.
		c.Heartbeat = time.Minute
	})
	t.Cleanup(openAll)
	must(t, func() error { _, err := s.Store().SaveMerge(l); return err }()) // not cached: a Fetch goes to a worker
	storeIDs := map[uint64]bool{}
	store := func() {
		m := protocol.NewStore(p.id(), 0, l.ID(), enc)
		storeIDs[m.RequestID] = true
		p.send(p.server, m)
	}
	next := func(want int) {
		t.Helper()
		select {
		case i := <-started:
			if i != want {
				t.Fatalf("job %d reached a worker, want job %d", i, want)
			}
		case <-time.After(wait):
			t.Fatalf("job %d never reached a worker", want)
		}
	}
	store() // job 0: held by the first worker
	next(0)
	fetch := protocol.NewFetch(p.id(), 0, l.ID())
	p.send(p.server, fetch) // job 1: held by the second worker
	next(1)
	fits := int(MinMemoryBudget/(int64(len(enc))+messageOverhead)) - 1 // the held store's included
	for range fits {
		store()
	}
	// The stores are sent, not yet read: the fetch may go on only once the
	// server holds them all and no room is left for its reply.
	eventually(t, "the queued stores to fill the memory budget", func() bool {
		return s.Stats().MemoryHeld+int64(len(enc))+messageOverhead > MinMemoryBudget
	})
	open(1) // the fetch reads the list, and finds no room for it
	_, m, _ := p.recv()
	if m.RequestID != fetch.RequestID {
		t.Fatalf("got %v for request %d, want the fetch's answer", m.Type, m.RequestID)
	}
	if b := wantError(t, m, protocol.CodeUnavailable); !strings.Contains(b.Message, "memory budget") {
		t.Fatalf("the fetch was refused with %q, want the memory budget named", b.Message)
	}
	open(0)
	for len(storeIDs) > 0 {
		_, m, _ := p.recv()
		if m.Type != protocol.TypeStoreReply || !storeIDs[m.RequestID] {
			t.Fatalf("got %v for request %d, want a StoreReply", m.Type, m.RequestID)
		}
		delete(storeIDs, m.RequestID)
	}
	again := p.call(protocol.NewFetch(p.id(), 0, l.ID()))
	if again.Type != protocol.TypeFetchReply || len(again.Body) != len(enc) {
		t.Fatalf("fetch with room: %v of %d bytes, want the %d-byte list", again.Type, len(again.Body), len(enc))
	}
}

// TestStoreSaysWhetherItCreatedTheList: a Store of a list the server holds
// nothing of is acknowledged with created; a second Store of it is not; a
// StoreExisting of a list it does not hold stores nothing and answers
// NotFound, and one of a list it holds is stored.
func TestStoreSaysWhetherItCreatedTheList(t *testing.T) {
	s, p := startWelcomed(t, nil)
	l := newList(t, time.Now, "milk")
	created := func(m protocol.Message) bool {
		t.Helper()
		if m.Type != protocol.TypeStoreReply {
			t.Fatalf("got %v, want StoreReply", m.Type)
		}
		b, err := protocol.DecodeStoreReplyBody(m.Body)
		must(t, err)
		return b.Created
	}
	fresh := newList(t, time.Now, "bread")
	r := p.call(protocol.NewStoreExisting(p.id(), 0, fresh.ID(), fresh.Encode()))
	wantError(t, r, protocol.CodeNotFound)
	if has, err := s.Store().Has(fresh.ID()); err != nil || has {
		t.Fatalf("a refused StoreExisting stored the list (has %v, %v)", has, err)
	}
	if !created(p.call(p.storeMsg(l))) {
		t.Fatal("the first store of a list did not say it created it")
	}
	if created(p.call(p.storeMsg(l))) {
		t.Fatal("a store of a list held already said it created it")
	}
	if created(p.call(protocol.NewStoreExisting(p.id(), 0, l.ID(), l.Encode()))) {
		t.Fatal("a StoreExisting said it created the list")
	}
	hinted, err := protocol.NewHintedStore(p.id(), 0, fresh.ID(), "other", fresh.Encode())
	must(t, err)
	if !created(p.call(hinted)) {
		t.Fatal("a hinted store of a list new here did not say it created it")
	}
}
