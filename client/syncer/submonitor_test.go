package syncer_test

import (
	"testing"

	"shoplist/client/syncer"
	"shoplist/protocol"
)

// TestPubReconnectPullsEveryList: when only the PUB goes away and comes back
// (a quick proxy restart the DEALER does not notice), updates published in
// between are lost, so the engine pulls every list again as soon as its SUB
// reconnects — not at the next periodic re-pull (an hour in these tests).
func TestPubReconnectPullsEveryList(t *testing.T) {
	t.Parallel()
	f := startFake(t, func(f *fakeProxy, m protocol.Message) [][][]byte {
		switch m.Type {
		case protocol.TypeHello:
			return [][][]byte{f.welcome(m)}
		case protocol.TypePull:
			return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, nil).Frames()}
		}
		return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
	})
	a := newClient(t, "a", f.endpoint)
	id := a.create("watched")
	a.waitConn(syncer.Online)
	eventually(t, "the first sync", func() bool { return !a.get(id).Pending && f.count(protocol.TypePull) >= 1 })
	eventually(t, "the SUB connected", func() bool { return a.log.contains("live updates connected") })
	before := f.count(protocol.TypePull)

	f.restartPubSocket(t)
	eventually(t, "a pull after the SUB reconnected", func() bool { return f.count(protocol.TypePull) > before })
	if n := f.connections(); n != 1 {
		t.Fatalf("the DEALER reconnected (%d identities): the pull must come from the SUB's reconnection alone", n)
	}
	if !a.log.contains("live updates reconnected") {
		t.Fatalf("no log of the SUB's reconnection:\n%s", a.log.String())
	}
}
