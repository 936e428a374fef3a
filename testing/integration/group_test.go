package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/launcher"
	"shoplist/hashring"
	"shoplist/testing/faults"
	"shoplist/testing/ledger"
	"shoplist/testing/testcluster"
)

// Process tests of a group of three proxies (one Raft group): the leader
// killed, and a server joining while clients write.

// launchGroup launches proxies proxies and servers servers as real
// processes on free loopback ports, with short heartbeats.
func launchGroup(t *testing.T, proxies, servers int) *launcher.Cluster {
	t.Helper()
	return launchWith(t, launcher.Config{Servers: servers, Proxies: proxies})
}

// groupTimeout bounds the waits of these tests: a Raft election on a
// loaded two-core machine, then the servers' reconnections, take seconds.
const groupTimeout = 45 * time.Second

// ringView is one proxy's view of the ring, compared across proxies.
type ringView struct {
	Epoch   uint64
	Members string // "id:state" sorted, of the committed membership
	Placed  string // "id@positions" of the proxy's placed servers
}

func viewOf(st admin.Status) ringView {
	var members, placed []string
	for _, m := range st.Membership.Members {
		members = append(members, fmt.Sprintf("%s:%v", m.ID, m.State))
	}
	v := ringView{Epoch: st.Membership.Epoch, Members: strings.Join(members, " ")}
	if st.Proxy != nil {
		for _, s := range st.Proxy.Servers {
			if s.State == "active" {
				placed = append(placed, fmt.Sprintf("%s@%v", s.ID, s.Positions))
			}
		}
		v.Placed = strings.Join(placed, " ")
		if st.Proxy.Epoch != v.Epoch {
			v.Placed += fmt.Sprintf(" (proxy at epoch %d)", st.Proxy.Epoch)
		}
	}
	return v
}

// waitRingAgreed waits until every running proxy answers with the same
// ring, whose active members are exactly want, every one of them up and
// reported, and returns the statuses.
func waitRingAgreed(t *testing.T, c *launcher.Cluster, want []string) map[int]admin.Status {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	var sts map[int]admin.Status
	var why string
	waitUntil(t, groupTimeout, fmt.Sprintf("every running proxy has the ring of %v, all up", want), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		sts, err = c.Statuses(ctx)
		if err != nil {
			why = err.Error()
			return false
		}
		running := 0
		for _, p := range c.Proxies() {
			if p.Running && !p.Paused {
				running++
			}
		}
		if len(sts) != running {
			why = fmt.Sprintf("%d of %d running proxies answered", len(sts), running)
			return false
		}
		var first *ringView
		for i, st := range sts {
			v := viewOf(st)
			if first == nil {
				first = &v
			} else if v != *first {
				why = fmt.Sprintf("proxy %d has %+v, another %+v", i, v, *first)
				return false
			}
			if st.Proxy == nil {
				why = fmt.Sprintf("proxy %d: %s", i, st.ProxyError)
				return false
			}
			var active []string
			for _, s := range st.Proxy.Servers {
				if s.State != "active" {
					continue
				}
				active = append(active, s.ID)
				if !s.Up {
					why = fmt.Sprintf("proxy %d sees %s down", i, s.ID)
					return false
				}
			}
			if !slices.Equal(active, want) {
				why = fmt.Sprintf("proxy %d places %v", i, active)
				return false
			}
		}
		return true
	}, func() string { return why })
	return sts
}

// waitUntil polls cond every 20 ms until it holds, and fails the test if
// it does not within d; detail adds the state found when giving up.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s; %s", d, what, detail())
		}
		<-tick.C
	}
}

// waitLeader waits until the running proxies agree on a leader and returns
// its index.
func waitLeader(t *testing.T, c *launcher.Cluster) int {
	t.Helper()
	leader := -1
	var last error
	waitUntil(t, groupTimeout, "the running proxies agree on a leader", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		leader, last = c.LeaderProxy(ctx)
		return last == nil
	}, func() string { return fmt.Sprint(last) })
	return leader
}

// startWriters starts writing clients over every proxy and stops them when
// the test ends.
func startWriters(t *testing.T, c *launcher.Cluster, cfg testcluster.WriterConfig) *testcluster.Writers {
	t.Helper()
	cfg.Endpoints = c.ClientEndpoints()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	w, err := testcluster.StartWriters(ctx, cfg)
	must(t, err)
	t.Cleanup(func() { w.Stop() })
	return w
}

// waitAcked waits until the writers have n more acknowledged pushes than
// from.
func waitAcked(t *testing.T, w *testcluster.Writers, from int64, n int64) int64 {
	t.Helper()
	waitUntil(t, groupTimeout, fmt.Sprintf("%d more pushes acknowledged", n), func() bool {
		return w.Stats().Acked >= from+n
	}, func() string { return fmt.Sprintf("%+v", w.Stats()) })
	return w.Stats().Acked
}

// verifyThroughEvery reads every list through each running proxy and fails
// on any acknowledged edit missing.
func verifyThroughEvery(t *testing.T, c *launcher.Cluster, w *testcluster.Writers, acked *ledger.Ledger) {
	t.Helper()
	for _, p := range c.Proxies() {
		if !p.Running {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		v, _, err := testcluster.Pull(ctx, p.Endpoints.ClientEndpoint(), w.Lists(), acked, 3*time.Second)
		cancel()
		must(t, err)
		if !v.OK() || v.Missing > 0 {
			t.Errorf("read through %s: %+v", p.Name, v)
		}
	}
}

func TestThreeProxiesSurviveTheLeaderKilled(t *testing.T) {
	t.Parallel()
	c := launchGroup(t, 3, 3)
	servers := serverIDs(c)
	waitRingAgreed(t, c, servers)
	w := startWriters(t, c, testcluster.WriterConfig{Clients: 3, Pace: 5 * time.Millisecond})
	acked := waitAcked(t, w, 0, 30)

	leader := waitLeader(t, c)
	must(t, faults.KillProxy(c, leader))
	killedAt := time.Now()
	next := waitLeader(t, c)
	if next == leader {
		t.Fatalf("proxy %d leads after being killed", leader)
	}
	t.Logf("proxy %d killed; proxy %d leads after %v", leader, next, time.Since(killedAt).Round(time.Millisecond))

	// A server started now is in the ring of both proxies left, at the
	// same epoch.
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	added, err := c.AddServer(ctx)
	must(t, err)
	servers = append(servers, added)
	sts := waitRingAgreed(t, c, servers)
	epoch := viewOf(sts[next]).Epoch

	// The clients kept working through the proxies left.
	acked = waitAcked(t, w, acked, 30)

	// The killed proxy comes back as a follower with the same ring.
	must(t, faults.StartProxy(ctx, c, leader))
	sts = waitRingAgreed(t, c, servers)
	if got := viewOf(sts[leader]).Epoch; got < epoch {
		t.Errorf("restarted proxy %d at epoch %d, the group at %d", leader, got, epoch)
	}
	waitAcked(t, w, acked, 10)
	ledger, stats, err := w.Stop()
	must(t, err)
	t.Logf("writers: %+v", stats)
	verifyThroughEvery(t, c, w, ledger)
}

func TestSixthServerJoinsWhileClientsWrite(t *testing.T) {
	t.Parallel()
	c := launchGroup(t, 3, 5)
	servers := serverIDs(c)
	waitRingAgreed(t, c, servers)
	w := startWriters(t, c, testcluster.WriterConfig{Clients: 4, Private: 8, Shared: 2, Pace: 5 * time.Millisecond})
	acked := waitAcked(t, w, 0, 100)

	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	added, err := c.AddServer(ctx)
	must(t, err)
	servers = append(servers, added)
	sts := waitRingAgreed(t, c, servers)
	epoch := viewOf(sts[0]).Epoch
	waitAcked(t, w, acked, 100) // clients keep writing across the change
	ledger, stats, err := w.Stop()
	must(t, err)
	t.Logf("writers: %+v", stats)

	// Lists move to the new server: every server reports, at the new epoch
	// or later, nothing left to move and no hint, and the new one stores
	// lists.
	leader := waitLeader(t, c)
	var why string
	waitUntil(t, groupTimeout, "the rebalancing is done", func() bool {
		st, err := c.Status(context.Background(), leader)
		if err != nil || st.Proxy == nil {
			why = fmt.Sprint(err)
			return false
		}
		for _, s := range st.Proxy.Servers {
			switch {
			case !s.Reported || s.ReportEpoch < epoch:
				why = fmt.Sprintf("%s has not reported at epoch %d yet", s.ID, epoch)
				return false
			case s.Moving > 0 || s.Hints > 0:
				why = fmt.Sprintf("%s still has %d lists to move, %d hints", s.ID, s.Moving, s.Hints)
				return false
			case s.ID == added && s.Lists == 0:
				why = fmt.Sprintf("the new server %s stores no list", s.ID)
				return false
			}
		}
		return true
	}, func() string { return why })

	// Nothing acknowledged is lost, through any proxy.
	verifyThroughEvery(t, c, w, ledger)

	// The ring is the same on every proxy (waitRingAgreed compared them),
	// and every owner, the new server too, holds every list it owns with
	// every acknowledged edit.
	sts = waitRingAgreed(t, c, servers)
	st := sts[leader]
	ring := hashring.New(servers, hashring.WithVNodes(st.Membership.VNodes))
	must(t, c.Close())
	var stores []testcluster.StoredServer
	for _, s := range c.Servers() {
		got, err := testcluster.ReadStore(s.Dir)
		must(t, err)
		stores = append(stores, got)
	}
	report := testcluster.CheckReplicas(stores, ring, st.Membership.N, ledger)
	t.Logf("replicas: %v", report)
	if report.Missing > 0 || report.Lost > 0 || report.Phantom > 0 {
		t.Errorf("after the join: %v\n%s", report, strings.Join(report.Problems, "\n"))
	}
	owned := 0
	for id := range maps.Keys(stores[slices.IndexFunc(stores, func(s testcluster.StoredServer) bool { return s.ID == added })].Lists) {
		if slices.Contains(ring.Owners(id.String(), st.Membership.N), added) {
			owned++
		}
	}
	t.Logf("the new server %s holds %d lists it owns", added, owned)
}
