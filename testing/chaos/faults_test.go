//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"shoplist/cluster/launcher"
	"shoplist/testing/faults"
)

// Kinds of fault, as counted in the figures.
const (
	faultKillServer  = "SIGKILL server"
	faultPauseServer = "SIGSTOP server"
	faultKillLeader  = "SIGKILL leader proxy"
	faultPauseProxy  = "SIGSTOP proxy"
)

// Limits of the injector: at most this many servers and proxies faulty at
// once. Two of five servers down still leave every list W healthy servers
// to take its writes (sloppy quorum), and two of three proxies keep the
// Raft group's majority.
const (
	maxServerFaults = 2
	maxProxyFaults  = 1
)

// fault is one fault in progress: what is down or paused and until when.
type fault struct {
	kind   string
	server string // for server faults
	proxy  int    // for proxy faults
	until  time.Time
}

// injector injects faults into a cluster at random, one goroutine's work:
// every call is from the test's goroutine.
type injector struct {
	c      *launcher.Cluster
	rng    *rand.Rand
	logf   func(format string, args ...any)
	active []fault
	counts map[string]int
	// skipped counts leader kills skipped because the proxies did not
	// agree on a leader at that moment (an election under way).
	skipped int
}

func newInjector(c *launcher.Cluster, seed uint64, logf func(string, ...any)) *injector {
	return &injector{c: c, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), logf: logf, counts: map[string]int{}}
}

// between returns a random duration in [lo, hi).
func (in *injector) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(in.rng.Int64N(int64(hi-lo)))
}

// run injects faults until end, then ends every fault in progress: every
// server and proxy runs again when it returns. A control operation that
// fails (a restarted process that is never welcomed, say) ends it with the
// error.
func (in *injector) run(ctx context.Context, end time.Time) error {
	for time.Now().Before(end) {
		if err := in.heal(ctx, time.Now()); err != nil {
			return err
		}
		if err := in.inject(ctx); err != nil {
			return err
		}
		// Pacing between decisions, not synchronisation.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(in.between(200*time.Millisecond, 1200*time.Millisecond)):
		}
	}
	return in.heal(ctx, time.Time{})
}

// heal ends the faults due by now; the zero time ends them all.
func (in *injector) heal(ctx context.Context, now time.Time) error {
	var keep []fault
	for _, f := range in.active {
		if !now.IsZero() && now.Before(f.until) {
			keep = append(keep, f)
			continue
		}
		start := time.Now()
		var err error
		switch f.kind {
		case faultKillServer:
			err = faults.StartServer(ctx, in.c, f.server)
		case faultPauseServer:
			err = faults.ResumeServer(in.c, f.server)
		case faultKillLeader:
			err = faults.StartProxy(ctx, in.c, f.proxy)
		case faultPauseProxy:
			err = faults.ResumeProxy(in.c, f.proxy)
		}
		if err != nil {
			return fmt.Errorf("ending %s: %w", describe(f), err)
		}
		in.logf("chaos: ended %s (took %v)", describe(f), time.Since(start).Round(time.Millisecond))
	}
	in.active = keep
	return nil
}

func describe(f fault) string {
	if f.server != "" {
		return fmt.Sprintf("%s %s", f.kind, f.server)
	}
	return fmt.Sprintf("%s %d", f.kind, f.proxy)
}

// faulty returns the servers and proxies with a fault in progress.
func (in *injector) faulty() (servers map[string]bool, proxies map[int]bool) {
	servers, proxies = map[string]bool{}, map[int]bool{}
	for _, f := range in.active {
		if f.server != "" {
			servers[f.server] = true
		} else {
			proxies[f.proxy] = true
		}
	}
	return servers, proxies
}

// inject starts one new fault, chosen at random among those the limits
// allow, or none.
func (in *injector) inject(ctx context.Context) error {
	servers, proxies := in.faulty()
	r := in.rng.Float64()
	switch {
	case r < 0.35 && len(servers) < maxServerFaults:
		id, ok := in.healthyServer(servers)
		if !ok {
			return nil
		}
		if err := faults.KillServer(in.c, id); err != nil {
			return fmt.Errorf("killing server %s: %w", id, err)
		}
		in.start(fault{kind: faultKillServer, server: id, until: time.Now().Add(in.between(time.Second, 8*time.Second))})
	case r < 0.65 && len(servers) < maxServerFaults:
		id, ok := in.healthyServer(servers)
		if !ok {
			return nil
		}
		if err := faults.PauseServer(in.c, id); err != nil {
			return fmt.Errorf("pausing server %s: %w", id, err)
		}
		in.start(fault{kind: faultPauseServer, server: id, until: time.Now().Add(in.between(500*time.Millisecond, 4*time.Second))})
	case r < 0.85 && len(proxies) < maxProxyFaults:
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		leader, err := in.c.LeaderProxy(lctx)
		cancel()
		if err != nil {
			in.skipped++
			return nil
		}
		if err := faults.KillProxy(in.c, leader); err != nil {
			return fmt.Errorf("killing leader proxy %d: %w", leader, err)
		}
		in.start(fault{kind: faultKillLeader, proxy: leader, until: time.Now().Add(in.between(time.Second, 5*time.Second))})
	case len(proxies) < maxProxyFaults:
		i := in.rng.IntN(len(in.c.Proxies()))
		if err := faults.PauseProxy(in.c, i); err != nil {
			return fmt.Errorf("pausing proxy %d: %w", i, err)
		}
		in.start(fault{kind: faultPauseProxy, proxy: i, until: time.Now().Add(in.between(500*time.Millisecond, 3*time.Second))})
	}
	return nil
}

func (in *injector) start(f fault) {
	in.active = append(in.active, f)
	in.counts[f.kind]++
	in.logf("chaos: %s until +%v", describe(f), time.Until(f.until).Round(time.Millisecond))
}

// healthyServer returns a random running server without a fault.
func (in *injector) healthyServer(faulty map[string]bool) (string, bool) {
	var ids []string
	for _, s := range in.c.Servers() {
		if s.Running && !s.Paused && !faulty[s.ID] {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return "", false
	}
	return ids[in.rng.IntN(len(ids))], true
}

// total returns how many faults were injected.
func (in *injector) total() int {
	n := 0
	for _, k := range slices.Sorted(maps.Keys(in.counts)) {
		n += in.counts[k]
	}
	return n
}
