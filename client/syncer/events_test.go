package syncer

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// startQueue runs q's delivery until the test ends.
func startQueue(t *testing.T, q *eventQueue) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// Events queued behind a slow reader keep their detail and order, and
// consecutive status changes merge into one.
func TestEventQueueKeepsDetail(t *testing.T) {
	q := newEventQueue()
	ids := []uuid.UUID{uuid.New(), uuid.New()}
	q.push(Event{Kind: StatusChanged})
	q.push(Event{Kind: StatusChanged})
	q.push(Event{Kind: ListChanged, List: ids[0], Keys: []string{"eggs"}})
	q.push(Event{Kind: ListChanged, List: ids[1], Keys: []string{"tea"}, Remote: true})
	startQueue(t, q)
	want := []Event{{Kind: StatusChanged}, {Kind: ListChanged, List: ids[0]}, {Kind: ListChanged, List: ids[1], Remote: true}}
	for i, w := range want {
		if ev := <-q.out; ev.Kind != w.Kind || ev.List != w.List || ev.Remote != w.Remote {
			t.Fatalf("event %d: %+v, want %+v", i, ev, w)
		}
	}
	select {
	case ev := <-q.out:
		t.Fatalf("extra event %+v", ev)
	default:
	}
}

// A reader that falls more than maxQueued events behind loses their detail,
// not the fact of a change: it gets ListsChanged and StatusChanged (reload
// everything), and detail again once it has caught up.
func TestEventQueueCoalescesWhenTheReaderFallsBehind(t *testing.T) {
	q := newEventQueue()
	for range maxQueued + 10 {
		q.push(Event{Kind: ListChanged, List: uuid.New(), Keys: []string{"milk"}})
	}
	q.push(Event{Kind: StatusChanged})
	startQueue(t, q)
	if a, b := <-q.out, <-q.out; a.Kind != ListsChanged || b.Kind != StatusChanged {
		t.Fatalf("after an overflow got %v, %v; want ListsChanged, StatusChanged", a.Kind, b.Kind)
	}
	id := uuid.New()
	q.push(Event{Kind: ListChanged, List: id})
	if ev := <-q.out; ev.Kind != ListChanged || ev.List != id {
		t.Fatalf("after catching up got %+v", ev)
	}
}

// The channel is closed when delivery stops.
func TestEventQueueClosesItsChannel(t *testing.T) {
	q := newEventQueue()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.run(ctx)
	if _, open := <-q.out; open {
		t.Fatal("channel open after the queue stopped")
	}
}
