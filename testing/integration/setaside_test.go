package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"shoplist/cluster/launcher"
	"shoplist/cluster/proxy"
	"shoplist/crdt"
	"shoplist/storage"
	"shoplist/testing/diskfault"
	"shoplist/testing/faults"
	"shoplist/testing/testcluster"
)

// A server whose store's files are corrupt starts anyway, on an empty
// store, with its identity, and the other owners refill it; the service
// starts without a server that cannot start at all.

// pushLists pushes n new lists, each with a few items, that server id
// owns, and returns them.
func pushLists(t *testing.T, c *launcher.Cluster, id string, n int) []*crdt.List {
	t.Helper()
	ids := serverIDs(c)
	w := dial(t, c.ClientEndpoint())
	var out []*crdt.List
	for i := range n {
		r := findList(t, fmt.Sprintf("list %d", i), func(l uuid.UUID) []string { return ownersOf(ids, l) },
			func(owners []string) bool { return slices.Contains(owners, id) })
		for _, item := range []string{"milk", "eggs", "bread"} {
			_, err := r.add(item, int64(i+1))
			must(t, err)
		}
		must(t, w.push(r.id(), r.state()))
		out = append(out, r.list)
	}
	return out
}

// encodings returns each list's encoding by ID.
func encodings(lists []*crdt.List) map[uuid.UUID][]byte {
	out := map[uuid.UUID][]byte{}
	for _, l := range lists {
		out[l.ID()] = l.Encode()
	}
	return out
}

// asideOf returns the directories beside dir where its server set a
// corrupt store aside.
func asideOf(t *testing.T, dir string) []string {
	t.Helper()
	found, err := filepath.Glob(dir + ".corrupt-*")
	must(t, err)
	return found
}

// TestAServerWithACorruptTableStartsEmptyAndIsRefilled: a flipped byte in a
// table file of a stopped server's store made it refuse to start for good;
// now it sets the files aside, starts with an empty store as the same
// ring member, says so in its report, and anti-entropy refills every list
// it owns from the other owners.
func TestAServerWithACorruptTableStartsEmptyAndIsRefilled(t *testing.T) {
	t.Parallel()
	c := launchWith(t, launcher.Config{Servers: 5, ProxyArgs: fastAntiEntropy})
	ids := serverIDs(c)
	victim := ids[0]
	lists := pushLists(t, c, victim, 6)
	dir := serverInfo(t, c, victim).Dir
	must(t, faults.StopServer(c, victim))
	storeInto(t, dir, lists...) // it holds them all, whatever the pushes reached
	_, err := diskfault.FlipTables(dir)
	must(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	must(t, faults.StartServer(ctx, c, victim)) // welcomed into the ring under its own ID
	if aside := asideOf(t, dir); len(aside) != 1 {
		t.Fatalf("set aside: %v, want one directory beside %s", aside, dir)
	}
	waitReport(t, c, victim, "the victim reports its store reset", func(s proxy.ServerStatus) bool { return s.Reset })
	waitInSync(t, c)
	checkOnOwners(t, ids, stopAndRead(t, c), encodings(lists))
}

// TestServiceStartsWithoutAServerThatCannotStart: the service is launched
// again on its data with one server's table files corrupt and another
// server's data directory in use: the first starts on an empty store, the
// second is reported and left out, and the others run. Once the second is
// started too, every list is whole on all of its owners.
func TestServiceStartsWithoutAServerThatCannotStart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg := launcher.Config{Data: data, Servers: 5, ProxyArgs: fastAntiEntropy}
	c := launchWith(t, cfg)
	ids := serverIDs(c)
	corrupt, busy := ids[0], ids[1]
	lists := pushLists(t, c, corrupt, 6)
	dirs := map[string]string{}
	for _, s := range c.Servers() {
		dirs[s.ID] = s.Dir
	}
	must(t, c.Close())
	storeInto(t, dirs[corrupt], lists...)
	_, err := diskfault.FlipTables(dirs[corrupt])
	must(t, err)
	held, err := storage.Open(dirs[busy], storage.Options{Owner: "test"})
	must(t, err)

	out := &testcluster.FailureLog{}
	cfg.Stderr = out
	c = launchWith(t, cfg) // fails the test if the start fails
	for _, s := range c.Servers() {
		if running := s.ID != busy; s.Running != running {
			t.Errorf("server %s running %v, want %v", s.ID, s.Running, running)
		}
	}
	if log := out.String(); !strings.Contains(log, "server-"+busy+" (pid ") || !strings.Contains(log, "the cluster starts without it, with 4 of 5 servers") ||
		!strings.Contains(log, "in use by process") {
		t.Fatalf("the service did not report the server it started without:\n%s", log)
	}
	if aside := asideOf(t, dirs[corrupt]); len(aside) != 1 {
		t.Fatalf("set aside: %v, want one directory beside %s", aside, dirs[corrupt])
	}

	must(t, held.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	must(t, faults.StartServer(ctx, c, busy))
	waitInSync(t, c)
	checkOnOwners(t, ids, stopAndRead(t, c), encodings(lists))
	if _, err := os.Stat(filepath.Join(asideOf(t, dirs[corrupt])[0], "pebble")); err != nil {
		t.Fatalf("the corrupt files are not in the aside directory: %v", err)
	}
}
