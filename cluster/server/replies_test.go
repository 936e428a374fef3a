package server

import (
	"testing"

	"shoplist/protocol"
)

// TestReplyQueueRingsOncePerTake: the first reply after the loop emptied the
// queue rings the doorbell, later ones ride on that ring, and taking the
// queue re-arms it; replies come out in order, and the loop's slice is
// reused.
func TestReplyQueueRingsOncePerTake(t *testing.T) {
	rang := 0
	q := newReplyQueue(func() { rang++ })
	q.putAll([]reply{{link: 0, msg: protocol.NewHeartbeat(0)}})
	q.putAll([]reply{{link: 1, msg: protocol.NewHeartbeat(1)}, {link: 2, msg: protocol.NewHeartbeat(2)}})
	if rang != 1 {
		t.Fatalf("3 replies rang %d times, want 1", rang)
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
	rang = 0
	q.putAll([]reply{{link: 7}})
	if rang != 1 {
		t.Fatalf("a reply after a take rang %d times, want 1", rang)
	}
	if again, _ := q.take(nil); len(again) != 1 || again[0].link != 7 || &again[0] != &got[0] {
		t.Fatalf("took %+v, want link 7 in the reused slice", again)
	}
}
