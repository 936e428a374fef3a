package integration

import (
	"bytes"
	"fmt"
	"testing"

	"shoplist/crdt"
)

// Live updates: a subscribed client receives the live update of another
// client's push.
func TestSubscriberReceivesAnotherClientsPushLive(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 5)
	watcher, writer := h.client(), h.client()
	shared := pushNew(t, writer, "shared")

	welcome, err := watcher.hello()
	must(t, err)
	sub := subscribeLive(t, welcome.PubEndpoint, shared.id())
	must(t, watcher.subscribe(shared.id()))
	waitSubscribed(t, writer, sub, shared) // the writer's pushes tell when the watcher's subscription is live

	// Every push from now on reaches the watcher, in order, as the delta
	// that was pushed.
	view := joinReplica(shared.id()).list
	for i := range 5 {
		item := fmt.Sprintf("live %d", i)
		delta, err := shared.add(item, 1)
		must(t, err)
		must(t, writer.push(shared.id(), delta))
		m, err := sub.next(requestTimeout)
		if err != nil {
			t.Fatalf("live update of push %d: %v", i, err)
		}
		if m.ListID != shared.id() || !bytes.Equal(m.Body, delta) {
			t.Fatalf("live update %d: list %s body %x, want list %s body %x", i, m.ListID, m.Body, shared.id(), delta)
		}
		update, err := crdt.Decode(m.Body)
		must(t, err)
		must(t, view.Merge(update))
		if _, ok := view.Lookup(item); !ok {
			t.Errorf("after merging live update %d the watcher's list lacks %q", i, item)
		}
	}
}
