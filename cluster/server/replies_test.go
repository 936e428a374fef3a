package server

import (
	"testing"

	"shoplist/protocol"
)

// rings reports how many rings are waiting on q, and consumes them.
func rings(q *replyQueue) int {
	n := 0
	for {
		select {
		case <-q.ring:
			n++
		default:
			return n
		}
	}
}

// TestReplyQueueRingsOncePerTake: the first reply after the loop emptied the
// queue rings the doorbell, later ones ride on that ring, and taking the
// queue re-arms it; replies come out in order, and the loop's slice is
// reused.
func TestReplyQueueRingsOncePerTake(t *testing.T) {
	q := newReplyQueue()
	for i := range 3 {
		q.put(reply{link: i, msg: protocol.NewHeartbeat(uint64(i))})
	}
	if n := rings(q); n != 1 {
		t.Fatalf("3 replies rang %d times, want 1", n)
	}
	got, _ := q.take(nil)
	if len(got) != 3 || got[0].link != 0 || got[2].link != 2 {
		t.Fatalf("took %+v, want links 0, 1, 2 in order", got)
	}
	if again, _ := q.take(nil); len(again) != 0 {
		t.Fatalf("second take returned %d replies, want none", len(again))
	}
	clear(got)
	q.take(got) // hand the slice back, as the loop does
	q.put(reply{link: 7})
	if n := rings(q); n != 1 {
		t.Fatalf("a reply after a take rang %d times, want 1", n)
	}
	if again, _ := q.take(nil); len(again) != 1 || again[0].link != 7 || &again[0] != &got[0] {
		t.Fatalf("took %+v, want link 7 in the reused slice", again)
	}
}
