package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/launcher"
	"shoplist/cluster/proxy"
	"shoplist/crdt"
	"shoplist/storage"
	"shoplist/testing/faults"
	"shoplist/testing/testcluster"
)

// Helpers for the tests that damage a server's store and wait for the
// cluster to make it whole again: what the proxy reports, a quiet
// anti-entropy pass, and the stores of the stopped servers.

// fastAntiEntropy makes the proxy compare one range every 100 ms, so that a
// pass over the 15 primary ranges of five servers takes about 1.5 s.
var fastAntiEntropy = []string{"--anti-entropy", "100ms"}

// statusPoll is how often the proxy's status is read while waiting on it:
// nothing announces what the status says.
const statusPoll = 100 * time.Millisecond

// proxyStatus returns proxy 0's view of the servers, or why it has none.
func proxyStatus(c *launcher.Cluster) (*proxy.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.Status(ctx, 0)
	if err != nil {
		return nil, err
	}
	if st.Proxy == nil {
		return nil, fmt.Errorf("proxy: %s", st.ProxyError)
	}
	return st.Proxy, nil
}

// pollStatus reads proxy 0's status until check says it is done, and fails
// the test if that takes longer than 2 × testTimeout; check returns what it
// is waiting for, for the failure message.
func pollStatus(t *testing.T, c *launcher.Cluster, what string, check func(*proxy.Status) (done bool, why string)) {
	t.Helper()
	deadline := time.Now().Add(2 * testTimeout)
	tick := time.NewTicker(statusPoll)
	defer tick.Stop()
	why := "no status yet"
	for {
		st, err := proxyStatus(c)
		done := false
		if err != nil {
			why = err.Error()
		} else if done, why = check(st); done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s (%s)", 2*testTimeout, what, why)
		}
		<-tick.C
	}
}

// waitReport waits until the proxy's status of server id satisfies ok.
func waitReport(t *testing.T, c *launcher.Cluster, id, what string, ok func(proxy.ServerStatus) bool) {
	t.Helper()
	pollStatus(t, c, what, func(st *proxy.Status) (bool, string) {
		for _, s := range st.Servers {
			if s.ID == id {
				return s.Reported && ok(s), fmt.Sprintf("%s: %+v", id, s)
			}
		}
		return false, id + " is not in the status"
	})
}

// waitInSync waits until every server is up and the proxy's anti-entropy
// has then compared every primary range of the ring in a row, finding each
// in sync and repairing nothing: every owner of every list holds the same
// state (equal hashes in equal digests).
func waitInSync(t *testing.T, c *launcher.Cluster) {
	t.Helper()
	var base *proxy.Status // when the quiet pass began
	pollStatus(t, c, "an anti-entropy pass finding every range in sync", func(st *proxy.Status) (bool, string) {
		ranges := 0
		for _, s := range st.Servers {
			if s.State == "active" && !s.Up {
				base = nil
				return false, s.ID + " is down"
			}
			ranges += len(s.Positions)
		}
		if base == nil || st.AntiEntropy.ListsRepaired != base.AntiEntropy.ListsRepaired {
			base = st
			return false, "starting a quiet pass"
		}
		compared := st.AntiEntropy.RangesCompared - base.AntiEntropy.RangesCompared
		inSync := st.AntiEntropy.RangesInSync - base.AntiEntropy.RangesInSync
		if compared != inSync {
			base = st
			return false, "a range was out of sync"
		}
		return inSync >= uint64(ranges), fmt.Sprintf("%d of %d ranges in sync in a row", inSync, ranges)
	})
}

// storeInto merges lists into the store of a stopped server, so that it
// holds them whatever the pushes reached.
func storeInto(t *testing.T, dir string, lists ...*crdt.List) {
	t.Helper()
	st, err := storage.Open(dir, storage.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	for _, l := range lists {
		_, err := st.SaveMerge(l)
		must(t, err)
	}
	must(t, st.Close())
}

// stopAndRead stops every server of c and reads its store.
func stopAndRead(t *testing.T, c *launcher.Cluster) []testcluster.StoredServer {
	t.Helper()
	var out []testcluster.StoredServer
	for _, s := range c.Servers() {
		if s.Running {
			must(t, faults.StopServer(c, s.ID))
		}
		st, err := testcluster.ReadStore(s.Dir)
		must(t, err)
		out = append(out, st)
	}
	return out
}

// checkOnOwners checks that each list of want is stored, with exactly the
// bytes want gives, on each of its owners on the ring of servers ids.
func checkOnOwners(t *testing.T, ids []string, stores []testcluster.StoredServer, want map[uuid.UUID][]byte) {
	t.Helper()
	byID := map[string]testcluster.StoredServer{}
	for _, s := range stores {
		byID[s.ID] = s
	}
	for list, enc := range want {
		for _, o := range ownersOf(ids, list) {
			got, ok := byID[o].Lists[list]
			switch {
			case !ok:
				t.Errorf("owner %s has no copy of list %s", o, list)
			case !bytes.Equal(got, enc):
				t.Errorf("owner %s's copy of list %s is not the whole list (%d bytes, want %d)", o, list, len(got), len(enc))
			}
		}
	}
}
