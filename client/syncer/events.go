package syncer

import (
	"context"
	"sync"
)

// Event delivery bounds: the channel Events returns holds eventBuffer
// events; behind it the queue holds up to maxQueued more before it gives up
// the detail and keeps only the fact that something changed.
const (
	eventBuffer = 64
	maxQueued   = 1024
)

// eventQueue hands the loop's events to the reader without ever blocking
// the loop: push appends to a queue, and run (its own goroutine) moves the
// queue into the channel as fast as the reader takes it. A reader that
// falls more than maxQueued events behind loses their detail: the queue is
// replaced by one ListsChanged and one StatusChanged (reload everything).
type eventQueue struct {
	out  chan Event    // what Engine.Events returns; closed when run returns
	wake chan struct{} // run's signal that the queue is not empty

	mu       sync.Mutex // guards queued and overflow
	queued   []Event
	overflow bool // events were dropped since run last took the queue
}

// newEventQueue returns an empty queue; run delivers it.
func newEventQueue() *eventQueue {
	return &eventQueue{out: make(chan Event, eventBuffer), wake: make(chan struct{}, 1)}
}

// push queues ev. It never blocks. Consecutive StatusChanged events merge.
func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	switch {
	case q.overflow:
	case len(q.queued) >= maxQueued:
		q.queued, q.overflow = nil, true
	case ev.Kind == StatusChanged && len(q.queued) > 0 && q.queued[len(q.queued)-1].Kind == StatusChanged:
	default:
		q.queued = append(q.queued, ev)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns and empties the queue.
func (q *eventQueue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := q.queued
	if q.overflow {
		batch = []Event{{Kind: ListsChanged}, {Kind: StatusChanged}}
	}
	q.queued, q.overflow = nil, false
	return batch
}

// run delivers queued events until ctx is done, then closes out.
func (q *eventQueue) run(ctx context.Context) {
	defer close(q.out)
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		for _, ev := range q.take() {
			select {
			case q.out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}
}
