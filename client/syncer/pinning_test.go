package syncer_test

import (
	"strings"
	"testing"

	"shoplist/client/syncer"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// yesMan answers every request as a proxy that stored everything would:
// what an impostor answers to mark a client's edits synced.
func yesMan(f *fakeProxy, m protocol.Message) [][][]byte {
	switch m.Type {
	case protocol.TypeHello:
		return [][][]byte{f.welcome(m)}
	case protocol.TypePull:
		return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, nil).Frames()}
	}
	return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
}

func newKey(t *testing.T) curvekey.Pair {
	t.Helper()
	k, err := curvekey.Generate()
	must(t, err)
	return k
}

// TestAnImpostorOnThePinnedEndpointNeverMarksEditsSynced: a process that
// listens where the client's proxy was, but without the proxy's secret key
// (another key, or no CURVE), gets no Hello, no edit and no chance to
// answer: the client stays offline and its edit pending. The control case,
// an impostor holding the pinned key (a stolen secret), fools the client,
// which shows that the pin is what stops the others.
func TestAnImpostorOnThePinnedEndpointNeverMarksEditsSynced(t *testing.T) {
	pinned := newKey(t)
	for _, tc := range []struct {
		name  string
		key   curvekey.Pair // the impostor's
		fools bool
	}{
		{"another key", newKey(t), false},
		{"no CURVE", curvekey.Pair{}, false},
		{"the pinned key itself (control)", pinned, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFakeWithKey(t, tc.key, yesMan)
			addr, _, _ := strings.Cut(f.endpoint, "#")
			a := newClient(t, "a", curvekey.JoinEndpoint(addr, pinned.Public))
			id := a.create("groceries")
			a.edit(id, add("milk", 1))
			if tc.fools {
				eventually(t, "the impostor holding the key marks the edit synced", func() bool { return !a.get(id).Pending })
				return
			}
			// A connection attempt ends when the proxy stays silent for
			// three heartbeats: wait for two of them to have failed.
			eventually(t, "two connection attempts given up", func() bool {
				return strings.Count(a.log.String(), "proxy connection lost") >= 2
			})
			if st := a.eng.Status(); st.Conn == syncer.Online || !a.get(id).Pending {
				t.Fatalf("status %+v, pending %v: want offline with the edit pending", st, a.get(id).Pending)
			}
			if n := f.count(protocol.TypeHello) + f.count(protocol.TypePush); n != 0 {
				t.Fatalf("the impostor received %d requests", n)
			}
		})
	}
}

// TestAProxyBehindItsGroupIsGivenUpForTheNext: a proxy whose pushes fail
// with StaleEpoch (it lags its group's ring, or is cut off from it) is
// given up at once for the next endpoint, where the edit is pushed.
func TestAProxyBehindItsGroupIsGivenUpForTheNext(t *testing.T) {
	behind := startFake(t, func(f *fakeProxy, m protocol.Message) [][][]byte {
		switch m.Type {
		case protocol.TypeHello:
			return [][][]byte{f.welcome(m)}
		case protocol.TypePush, protocol.TypePull:
			return [][][]byte{protocol.NewError(m.RequestID, protocol.CodeStaleEpoch, "replicas route by a newer ring than this proxy's").Frames()}
		}
		return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
	})
	good := startFake(t, yesMan)
	a := newClient(t, "a", behind.endpoint, good.endpoint)
	id := a.create("groceries")
	a.edit(id, add("milk", 1))
	eventually(t, "the edit pushed through the next proxy", func() bool {
		return !a.get(id).Pending && good.count(protocol.TypePush) > 0
	})
	if behind.count(protocol.TypePush)+behind.count(protocol.TypePull) == 0 {
		t.Fatal("the lagging proxy was never asked: the test proves nothing")
	}
}
