package proxy

import (
	"context"
	"slices"
	"testing"
	"time"

	"shoplist/protocol"
)

// TestAPushRefusedAsStaleIsRoutedAgainUnderTheNewerEpoch: the servers
// have adopted epoch 5, in which one owner of the list is leaving, while
// the proxy still routes by epoch 4. Every owner refuses the push's Store
// with StaleEpoch; once the proxy's membership commits epoch 5, the push
// goes to the list's owners on the new ring, within the request's
// deadline, and the client is acknowledged.
func TestAPushRefusedAsStaleIsRoutedAgainUnderTheNewerEpoch(t *testing.T) {
	g := newGroupMembership()
	p := startGroupProxy(t, g, func(c *Config) { c.Timeout = testTimeout })
	fakes := joinServers(t, p, 4)
	if e := statusOf(t, p).Epoch; e != 4 {
		t.Fatalf("epoch %d after 4 joins, want 4", e)
	}
	l, body := sampleList(t, "oats")
	before := p.Owners(l.ID())
	c := newClient(t, p)
	c.send(protocol.NewPush(1, l.ID(), body))
	for _, id := range before {
		st := fakes[id].recvType(protocol.TypeStore)
		if st.Epoch != 4 {
			t.Fatalf("%s: store routed under epoch %d, want 4", id, st.Epoch)
		}
		refusal := protocol.NewError(st.RequestID, protocol.CodeStaleEpoch, "routed under epoch 4; this server has adopted epoch 5")
		refusal.Epoch, refusal.ListID = 5, l.ID()
		fakes[id].send(refusal)
	}
	waitFor(t, "the refusals counted", func() bool { return statusOf(t, p).Counters.StaleEpoch == 3 })

	if err := g.Leave(context.Background(), before[0]); err != nil {
		t.Fatal(err)
	}
	after := g.View().Ring.Owners(l.ID().String(), DefaultN)
	if slices.Contains(after, before[0]) || len(after) != 3 {
		t.Fatalf("owners at epoch 5: %v, want three without the leaving %s", after, before[0])
	}
	for _, id := range after {
		st := fakes[id].recvType(protocol.TypeStore)
		if st.Epoch != 5 || st.ListID != l.ID() || string(st.Body) != string(body) {
			t.Fatalf("%s: store of %s under epoch %d, want the push under epoch 5", id, st.ListID, st.Epoch)
		}
		fakes[id].send(protocol.NewStoreReply(st.RequestID, l.ID()))
	}
	if ok := c.recvType(protocol.TypeOK); ok.RequestID != 1 || ok.ListID != l.ID() {
		t.Fatalf("client got %+v, want OK of request 1", ok)
	}
	fakes[before[0]].silent(50 * time.Millisecond) // the leaving server is sent nothing more
	if st := statusOf(t, p); st.Counters.Rerouted != 1 || st.Counters.Failed != 0 {
		t.Fatalf("counters %+v, want one push routed again and none failed", st.Counters)
	}
}
