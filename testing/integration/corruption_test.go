package integration

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"shoplist/cluster/launcher"
	"shoplist/cluster/proxy"
	"shoplist/storage"
	"shoplist/testing/diskfault"
	"shoplist/testing/faults"
)

// A damaged value heals without an operator: the server that meets it
// keeps a copy in its quarantine, drops it, takes writes again, and the
// other owners make the list whole on it.

// TestADamagedValueIsMadeWholeOnEveryOwnerByAntiEntropy, with the servers
// as processes and nobody reading the list: a flipped bit in one value of
// an owner's store (a disk fault while it was stopped) is healed when
// anti-entropy's digest reads it, and the next rounds, seeing its list
// differ, store the merge of the owners on it. Before servers healed, the
// list stayed damaged for good: left out of the victim's digests, its
// fetches refused, its stores refused.
func TestADamagedValueIsMadeWholeOnEveryOwnerByAntiEntropy(t *testing.T) {
	t.Parallel()
	c := launchWith(t, launcher.Config{Servers: 5, ProxyArgs: fastAntiEntropy})
	ids := serverIDs(c)
	list := newReplica(t, "healed")
	for _, item := range []string{"milk", "eggs", "bread"} {
		_, err := list.add(item, 1)
		must(t, err)
	}
	must(t, dial(t, c.ClientEndpoint()).push(list.id(), list.state()))

	victim := ownersOf(ids, list.id())[0]
	dir := serverInfo(t, c, victim).Dir
	must(t, faults.StopServer(c, victim))
	storeInto(t, dir, list.list) // it holds the whole list, whatever the push reached
	bad, err := diskfault.FlipValue(dir, list.id(), "milk")
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	must(t, faults.StartServer(ctx, c, victim))

	waitReport(t, c, victim, "the victim reports a heal and nothing damaged", func(s proxy.ServerStatus) bool {
		return s.Healed >= 1 && s.Damaged == 0
	})
	waitInSync(t, c)
	checkOnOwners(t, ids, stopAndRead(t, c), map[uuid.UUID][]byte{list.id(): list.state()})

	st, err := storage.Open(dir, storage.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	defer st.Close()
	q, err := st.Quarantined()
	if err != nil || len(q) != 1 || !bytes.Equal(q[0].Value, bad) {
		t.Fatalf("the victim's quarantine: %d entries, %v; want the damaged value kept", len(q), err)
	}
}

// TestADamagedValueIsMadeWholeByAReadAndTakesWritesAtOnce, in process with
// anti-entropy off: right after its restart the damaged owner takes a
// write of the list, on what is left of it, and reading the list then
// repairs its copy with the other owners' states.
func TestADamagedValueIsMadeWholeByAReadAndTakesWritesAtOnce(t *testing.T) {
	t.Parallel()
	h := startInprocWith(t, 5, func(c *proxy.Config) { c.AntiEntropyInterval = -1 })
	c := h.client()
	list := pushNew(t, c, "read me")
	for _, item := range []string{"milk", "eggs", "bread"} {
		delta, err := list.add(item, 1)
		must(t, err)
		must(t, c.push(list.id(), delta))
	}
	victim := h.proxy.Owners(list.id())[0]
	i := h.index(victim)
	h.stop(i)
	h.waitMembers(nil, []string{victim})
	storeInto(t, h.dirs[i], list.list)
	_, err := diskfault.FlipValue(h.dirs[i], list.id(), "milk")
	must(t, err)
	s := h.start(i, "")
	h.waitMembers([]string{victim}, nil)

	delta, err := list.add("jam", 1)
	must(t, err)
	must(t, c.push(list.id(), delta))
	eventually(t, "the victim stores the write, on what is left of the list", func() bool {
		l, err := s.Store().Load(list.id())
		return err == nil && len(missingItems(l, []string{"jam", "eggs", "bread"})) == 0
	})
	if l, _ := s.Store().Load(list.id()); len(missingItems(l, []string{"milk"})) != 1 {
		t.Fatal("the victim has milk back before anything read the list: nothing left for a read to repair")
	}
	if st := s.Stats(); st.Healed != 1 || st.Damaged != 0 {
		t.Fatalf("victim's Stats %+v, want one heal and nothing damaged", st)
	}

	eventually(t, "reading the list makes the victim's copy whole", func() bool {
		got, err := c.pull(list.id())
		if err != nil || len(missingItems(got, []string{"milk", "eggs", "bread", "jam"})) > 0 {
			return false
		}
		l, err := s.Store().Load(list.id())
		return err == nil && bytes.Equal(l.Encode(), list.state())
	})
}
