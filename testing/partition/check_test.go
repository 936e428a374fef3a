//go:build partition

package partition

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/testing/converge"
	"shoplist/testing/ledger"
	"shoplist/testing/testcluster"
)

// figures are one schedule's.
type figures struct {
	number int
	name   string
	seed   uint64

	writing                              time.Duration // from the first partition to the clients' stop
	ops, acked, refused, timedOut, fails int64         // the writers' pushes
	reasons                              map[string]int64
	deviceEdits, offlineEdits            int64
	groups                               []string      // one line per client group
	deviceSync                           time.Duration // the longest a device took to push its edits after the stop
	partitions                           int           // cuts, links set down, splits
	drained                              time.Duration // from the clients' stop until nothing they sent was in flight
	converge                             time.Duration // from the heal
	convergeDetail                       string
	notes                                []string
	verdicts                             []string
	ok                                   bool
}

// add counts the figures of group g, homed at proxy home.
func (f *figures) add(g int, home string, gs groupStats) {
	w := gs.Writers
	f.groups = append(f.groups, fmt.Sprintf("client group %d (proxy %s): %d pushes, %d acknowledged, %d refused, %d timed out, %d failovers; device: %d edits, %d of them offline",
		g, home, w.Attempted, w.Acked, w.Refused, w.TimedOut, w.Failovers, gs.DeviceEdits, gs.DeviceOffline))
	f.ops += w.Attempted
	f.acked += w.Acked
	f.refused += w.Refused
	f.timedOut += w.TimedOut
	f.fails += w.Failovers
	if f.reasons == nil {
		f.reasons = map[string]int64{}
	}
	for r, n := range w.Reasons {
		f.reasons[r] += n
	}
	f.deviceEdits += gs.DeviceEdits
	f.offlineEdits += gs.DeviceOffline
	f.deviceSync = max(f.deviceSync, gs.DeviceSyncTime)
}

func (f *figures) print(logf func(string, ...any)) {
	logf("schedule %d (%s) figures, seed %d:", f.number, f.name, f.seed)
	logf("  writers: %d for %v: %d pushes, %d acknowledged, %d refused, %d timed out, %d failovers between proxies",
		sum(groupWriters), f.writing, f.ops, f.acked, f.refused, f.timedOut, f.fails)
	for _, r := range slices.Sorted(maps.Keys(f.reasons)) {
		logf("    refused %d× %s", f.reasons[r], r)
	}
	logf("  devices: %d edits saved locally (%d while offline), all pushed within %v of the stop",
		f.deviceEdits, f.offlineEdits, f.deviceSync.Round(time.Millisecond))
	for _, g := range f.groups {
		logf("    %s", g)
	}
	logf("  partitions made: %d", f.partitions)
	for _, n := range f.notes {
		logf("    %s", n)
	}
	logf("  the clients' traffic drained %v after they stopped; converged %v after the heal (%s)",
		f.drained.Round(time.Millisecond), f.converge.Round(time.Millisecond), f.convergeDetail)
	for _, v := range f.verdicts {
		logf("  %s", v)
	}
}

// summary is one line per schedule, for the end of the run.
func summary(figs []figures) []string {
	out := []string{fmt.Sprintf("  %-12s %8s %8s %8s %8s %8s %10s %11s  %s", "schedule", "pushes", "acked", "refused", "t/o", "dev.edits", "partitions", "converged", "verdict")}
	for _, f := range figs {
		verdict := "OK"
		if !f.ok {
			verdict = "FAILED"
		}
		out = append(out, fmt.Sprintf("  %-12s %8d %8d %8d %8d %8d %10d %11v  %s", fmt.Sprintf("%d %s", f.number, f.name),
			f.ops, f.acked, f.refused, f.timedOut, f.deviceEdits, f.partitions, f.converge.Round(100*time.Millisecond), verdict))
	}
	return out
}

// decodeAll decodes a group's lists; a list that does not decode is
// reported and left out (and so counts as missing).
func decodeAll(t *testing.T, what string, enc map[uuid.UUID][]byte) map[uuid.UUID]*crdt.List {
	t.Helper()
	out := map[uuid.UUID]*crdt.List{}
	for id, b := range enc {
		l, err := crdt.Decode(b)
		if err != nil {
			t.Errorf("%s: list %s does not decode: %v", what, id, err)
			continue
		}
		out[id] = l
	}
	return out
}

// judge checks what the cluster and the clients hold against the
// clients' ledger, as the chaos test does: a quorum read of every list
// through every proxy, every owner's copy (byte-identical on all N), and
// every client's lists (the same on all, and the same as the owners').
func judge(t *testing.T, r *run, all *ledger.Ledger, checks []groupCheck, conv converge.Result, fig *figures,
	logf func(string, ...any)) {
	t.Helper()
	lists := all.Lists()
	var names []string
	var states []map[uuid.UUID]*crdt.List
	for i, gc := range checks {
		home := r.proxyHost(r.groups[i].home)
		pulled := decodeAll(t, fmt.Sprintf("the read through proxy %s", home), gc.Pulled)
		var v ledger.Verdict
		for _, id := range lists {
			v.Add(all.Check(id, pulled[id]))
		}
		fig.verdicts = append(fig.verdicts, fmt.Sprintf("quorum read through proxy %s: %v", home, v))
		if !v.OK() || v.Missing > 0 {
			t.Errorf("quorum read through proxy %s: %v", home, v)
			for _, f := range v.Named(20) {
				t.Errorf("  %s", f)
			}
		}
		names = append(names, fmt.Sprintf("a fresh client of proxy %s", home), fmt.Sprintf("device %d", i))
		states = append(states, decodeAll(t, names[len(names)-2], gc.Client), decodeAll(t, names[len(names)-1], gc.Device))
	}
	problems := converge.CompareClients(names, states, all)

	var stores []testcluster.StoredServer
	for _, s := range r.c.servers {
		if !slices.Contains(r.ids, s.id) {
			continue // removed: it owns nothing
		}
		got, err := testcluster.ReadStore(s.dir)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, got)
	}
	ring := hashring.New(r.ids, hashring.WithVNodes(conv.VNodes))
	report := testcluster.CheckReplicas(stores, ring, conv.N, all)
	problems = append(problems, converge.CompareWithStores(states, stores, ring, conv.N)...)
	fig.verdicts = append(fig.verdicts, fmt.Sprintf("replicas: %v", report),
		fmt.Sprintf("clients: %d (a fresh client and the device of each group) × %d lists, %d problems", len(states), len(lists), len(problems)))
	for _, s := range stores {
		if s.Hints > 0 {
			fig.verdicts = append(fig.verdicts, fmt.Sprintf("server %s: %d hints left", s.ID, s.Hints))
		}
	}
	if !report.OK() {
		t.Errorf("replicas: %v", report)
		for _, p := range report.Problems {
			t.Errorf("  %s", p)
		}
	}
	for _, p := range problems {
		t.Errorf("clients: %s", p)
	}
	if fig.acked == 0 {
		t.Errorf("no write was acknowledged")
	}
}
