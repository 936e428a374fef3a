//go:build partition

package partition

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/testing/converge"
	"shoplist/testing/ledger"
)

// schedule is one partition scenario: run partitions r's network while the
// clients write and heals it before it returns.
type schedule struct {
	number int
	name   string
	run    func(r *run) error
}

// run is one schedule's cluster, network and figures, handed to its
// scenario.
type run struct {
	ctx      context.Context
	c        *cluster
	net      *network
	groups   []*group
	rng      *rand.Rand
	logf     func(string, ...any)
	duration time.Duration // how long a partition holds
	flap     time.Duration
	// ids are the servers the ring must hold at the end: the scenario
	// changes them if it changes the ring.
	ids []string
	// healed is when the last partition ended; the scenario sets it.
	healed time.Time
	// notes are the scenario's own figures, printed with the others.
	notes []string
	// after are the scenario's checks of the client groups' figures,
	// by group, once they stopped.
	after []func([]groupStats) error
}

func (r *run) note(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.notes = append(r.notes, line)
	r.logf("%s", line)
}

// pace waits d: the scenario's pacing between steps, not synchronisation.
func (r *run) pace(d time.Duration) {
	select {
	case <-r.ctx.Done():
	case <-time.After(d):
	}
}

// heal heals the network and records when.
func (r *run) heal() error {
	err := r.net.heal(r.ctx)
	r.healed = time.Now()
	r.logf("healed the network")
	return err
}

// waitFor polls cond every 250 ms until it holds or within passes; cond
// says what it saw.
func (r *run) waitFor(what string, within time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(within)
	for {
		ok, saw := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v (last: %s)", what, within, saw)
		}
		r.pace(250 * time.Millisecond) // polling: nothing announces it
	}
}

// proxyHost names proxy i's namespace host, for the network's cuts.
func (r *run) proxyHost(i int) string { return r.c.proxies[i].host.name }

// runSchedule starts a fresh cluster and the client groups, runs s, lets
// the clients write a little after the heal, stops them, waits for
// convergence and judges (check.go), filling fig in.
func runSchedule(t *testing.T, st settings, net *network, log *logFile, dir string, s schedule, fig *figures) {
	seed := fig.seed
	logf := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		log.line(fmt.Sprintf("[schedule %d] ", s.number), line)
		t.Log(line)
	}
	logf("schedule %d (%s): seed %d (PARTITION_SEED=%d PARTITION_SCHEDULES=%d replays it)", s.number, s.name, seed, st.seed, s.number)
	ctx := context.Background()
	if err := net.heal(ctx); err != nil {
		t.Fatalf("healing what the last schedule left: %v", err)
	}
	madeBefore := net.made

	launched := time.Now()
	c := &cluster{bin: st.bin, dir: dir, sink: log}
	t.Cleanup(func() { c.stop() }) // a no-op once the schedule has stopped it
	if err := c.startProxies(ctx, proxyHosts); err != nil {
		t.Fatalf("starting the proxies: %v", err)
	}
	var servers []*serverNode
	for i, h := range serverHosts {
		sv, err := c.newServer(fmt.Sprintf("srv%d", i), h)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, sv)
	}
	if err := c.startServers(ctx, servers); err != nil {
		t.Fatalf("starting the servers: %v", err)
	}

	sockDir, err := os.MkdirTemp("", "slpt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sent, err := serveSent(filepath.Join(sockDir, "sent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sent.close(); err != nil {
			t.Errorf("the Sent service: %v", err)
		}
	})
	groups, err := startGroups(ctx, c, log, dir, sent, seed)
	t.Cleanup(func() {
		for _, g := range groups {
			g.close(10 * time.Second)
		}
	})
	if err != nil {
		t.Fatalf("starting the client groups: %v", err)
	}
	logf("cluster up in %v; %d writers and %d devices writing", time.Since(launched).Round(time.Millisecond), sum(groupWriters), len(groups))

	r := &run{ctx: ctx, c: c, net: net, groups: groups, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), logf: logf,
		duration: st.duration, flap: st.flap}
	for _, sv := range servers {
		r.ids = append(r.ids, sv.id)
	}
	r.pace(warmUp)
	start := time.Now()
	if err := s.run(r); err != nil {
		t.Errorf("schedule %d (%s): %v", s.number, s.name, err)
	}
	if net.partitioned() {
		if err := r.heal(); err != nil {
			t.Fatalf("healing: %v", err)
		}
	}
	if r.healed.IsZero() {
		r.healed = time.Now()
	}
	fig.partitions = net.made - madeBefore
	fig.notes = r.notes
	r.pace(afterHeal)

	// The clients stop; the devices push what they edited.
	all := ledger.New()
	var stats []groupStats
	for _, g := range groups {
		if err := g.command(ctx, "stop", "stopped", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		l, gs, err := g.results()
		if err != nil {
			t.Fatalf("client group %d's results: %v", g.index, err)
		}
		all.Add(l)
		fig.add(g.index, r.proxyHost(g.home), gs)
		stats = append(stats, gs)
		for _, p := range gs.Problems {
			t.Errorf("client group %d: %s", g.index, p)
		}
		if gs.DeviceSyncErr != "" {
			t.Errorf("client group %d: its device did not sync within a minute of the stop: %s", g.index, gs.DeviceSyncErr)
		}
	}
	fig.writing = time.Since(start).Round(time.Second)
	for _, check := range r.after {
		if err := check(stats); err != nil {
			t.Errorf("schedule %d (%s): %v", s.number, s.name, err)
		}
	}

	// Nothing the clients sent may still be on its way: a push a writer
	// gave up on (timed out, so not acknowledged) can sit in the
	// retransmission queue of the socket it closed and reach the proxy,
	// which still holds that connection, seconds after the heal; landing
	// after convergence it would change the lists between one client's
	// final sync and another's.
	drained := time.Now()
	busy, err := waitDrained(ctx, groups, st.converge)
	if err != nil {
		t.Fatal(err)
	}
	fig.drained = time.Since(drained)
	if len(busy) > 0 {
		logf("in flight when the clients stopped, drained after %v: %s", fig.drained.Round(time.Millisecond), strings.Join(busy, "; "))
	}
	conv, err := converge.Wait(ctx, c, len(c.proxies), r.ids, r.healed, st.converge, logf)
	if err != nil {
		for _, e := range c.crashed() {
			t.Errorf("%v", e)
		}
		t.Fatalf("no convergence within %v of the heal: %v", st.converge, err)
	}
	fig.converge = time.Since(r.healed)
	fig.convergeDetail = conv.Detail

	// Every group syncs a fresh client and its device and reads every
	// list through its proxy.
	lists := all.Lists()
	var checks []groupCheck
	for _, g := range groups {
		if err := g.command(ctx, "check "+joinIDs(lists), "checked", 3*time.Minute); err != nil {
			t.Fatal(err)
		}
		gc, err := g.checked()
		if err != nil {
			t.Fatalf("client group %d's check: %v", g.index, err)
		}
		checks = append(checks, gc)
	}
	for _, g := range groups {
		if err := g.close(30 * time.Second); err != nil {
			t.Error(err)
		}
	}
	for _, e := range c.stop() {
		t.Errorf("%v", e)
	}
	judge(t, r, all, checks, conv, fig, logf)
	fig.print(logf)
}

// startGroups starts the client groups: group 0 first, which creates the
// shared lists, then the others writing to them. Group i is homed at
// proxy i.
func startGroups(ctx context.Context, c *cluster, log *logFile, dir string, sent *sentServer, seed uint64) ([]*group, error) {
	var groups []*group
	var shared []uuid.UUID
	first := 0
	for i, h := range groupHosts {
		cfg := driverConfig{
			Group: i, Endpoints: c.clientEndpoints(i), Writers: groupWriters[i], FirstIndex: first,
			Private: privateLists, SharedLists: shared, Items: items, Pace: writerPace, DevicePace: devicePace,
			Seed: seed + uint64(i), SentSocket: sent.ln.Addr().String(), Dir: filepath.Join(dir, "clients-"+h.name),
		}
		if i == 0 {
			cfg.Shared = sharedLists
		}
		g, err := startGroup(ctx, log, h, i, cfg)
		if g != nil {
			groups = append(groups, g)
		}
		if err != nil {
			return groups, err
		}
		if i == 0 {
			shared = g.shared
			if len(shared) != sharedLists {
				return groups, fmt.Errorf("client group 0 made %d shared lists, want %d", len(shared), sharedLists)
			}
		}
		first += groupWriters[i]
	}
	return groups, nil
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// others returns 0..n-1 without i.
func others(n, i int) []int {
	var out []int
	for j := range n {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// pick returns k distinct elements of xs chosen by rng, in xs's order.
func pick[T any](rng *rand.Rand, xs []T, k int) []T {
	idx := rng.Perm(len(xs))[:k]
	slices.Sort(idx)
	out := make([]T, 0, k)
	for _, i := range idx {
		out = append(out, xs[i])
	}
	return out
}
