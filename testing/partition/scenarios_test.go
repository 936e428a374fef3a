//go:build partition

package partition

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"shoplist/cluster/admin"
	"shoplist/testing/converge"
)

// schedules are the scenarios, by number (see the package doc).
var schedules = []schedule{
	{1, "leader", leaderCut},
	{2, "server", serverIsolated},
	{3, "minority", minorityCut},
	{4, "clients", clientsCut},
	{5, "split", bridgeSplit},
	{6, "flapping", flapping},
}

// leaderAmong waits until one proxy of idx leads and the others of idx
// name it, and returns its index and the statuses.
func (r *run) leaderAmong(idx []int, within time.Duration) (int, map[int]admin.Status, error) {
	leader := -1
	var sts map[int]admin.Status
	err := r.waitFor(fmt.Sprintf("a leader among proxies %v", idx), within, func() (bool, string) {
		sts = map[int]admin.Status{}
		for _, i := range idx {
			st, err := r.c.Status(r.ctx, i)
			if err != nil {
				return false, err.Error()
			}
			sts[i] = st
		}
		var err error
		leader, err = converge.Leader(sts)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return leader, sts, err
}

// members describes a status's ring membership: epoch, members and their
// states, admitted servers.
func members(m admin.Status) string {
	var ms []string
	for _, x := range m.Membership.Members {
		ms = append(ms, fmt.Sprintf("%s:%v", x.ID, x.State))
	}
	var ad []string
	for _, a := range m.Membership.Admitted {
		ad = append(ad, a.ID)
	}
	return fmt.Sprintf("epoch %d, members %s, admitted %s", m.Membership.Epoch, strings.Join(ms, " "), strings.Join(ad, " "))
}

// leaderCut: the Raft leader is cut from the other two proxies, which
// elect a leader and change the ring twice — the spare server joins, a
// server leaves — while the cut one, still reached by clients and
// servers, must change nothing and stop leading.
func leaderCut(r *run) error {
	all := []int{0, 1, 2}
	old, sts, err := r.leaderAmong(all, 20*time.Second)
	if err != nil {
		return err
	}
	before := sts[old]
	majority := others(3, old)
	for _, o := range majority {
		if err := r.net.cut(r.ctx, r.proxyHost(old), r.proxyHost(o)); err != nil {
			return err
		}
	}
	cutAt := time.Now()
	r.logf("cut the leader, proxy %s, from the other two (term %d, %s)", r.proxyHost(old), before.Membership.Term, members(before))

	// What the cut proxy says, checked at every step: it must keep the
	// ring it had, and stop leading.
	var changed []string
	stepDown := time.Duration(0)
	watch := func() {
		st, err := r.c.Status(r.ctx, old)
		if err != nil {
			changed = append(changed, fmt.Sprintf("its status failed: %v", err))
			return
		}
		if got, want := members(st), members(before); got != want {
			changed = append(changed, fmt.Sprintf("after %v: %s (was %s)", time.Since(cutAt).Round(time.Millisecond), got, want))
		}
		if st.Membership.RaftState != "Leader" && stepDown == 0 {
			stepDown = time.Since(cutAt)
		}
	}

	leader, _, err := r.leaderAmong(majority, 30*time.Second)
	if err != nil {
		return err
	}
	r.note("the other two elected proxy %s in %v", r.proxyHost(leader), time.Since(cutAt).Round(time.Millisecond))
	watch()
	via := r.c.proxies[leader]
	epochOf := func() (uint64, string) {
		st, err := r.c.Status(r.ctx, leader)
		if err != nil {
			return 0, err.Error()
		}
		return st.Membership.Epoch, members(st)
	}

	// Ring change 1: the spare server is admitted and joins.
	spare, err := r.c.newServer("srv5", spareHost)
	if err != nil {
		return err
	}
	if err := r.c.admit(r.ctx, via, spare); err != nil {
		return err
	}
	if err := r.c.startServer(spare); err != nil {
		return err
	}
	var epoch1 uint64
	if err := r.waitFor("the spare server in the majority's ring", 30*time.Second, func() (bool, string) {
		e, m := epochOf()
		epoch1 = e
		return e > before.Membership.Epoch && strings.Contains(m, spare.id+":active"), m
	}); err != nil {
		return err
	}
	watch()
	r.note("the majority admitted the spare %s: epoch %d → %d", spare.id, before.Membership.Epoch, epoch1)

	// Ring change 2: a server leaves.
	victim := pick(r.rng, r.ids, 1)[0]
	if err := r.c.remove(r.ctx, via, victim); err != nil {
		return err
	}
	var epoch2 uint64
	if err := r.waitFor("the removed server leaving in the majority's ring", 30*time.Second, func() (bool, string) {
		e, m := epochOf()
		epoch2 = e
		return e > epoch1 && !strings.Contains(m, victim+":active"), m
	}); err != nil {
		return err
	}
	watch()
	r.note("the majority removed %s: epoch %d → %d", victim, epoch1, epoch2)

	// The cut holds for the partition's duration at least.
	for time.Since(cutAt) < r.duration {
		r.pace(500 * time.Millisecond)
		watch()
	}
	final, m := epochOf()
	r.note("the cut proxy %s: %s; the majority: %s", r.proxyHost(old), members(before), m)
	if err := r.heal(); err != nil {
		return err
	}
	r.ids = append(slices.DeleteFunc(r.ids, func(id string) bool { return id == victim }), spare.id)

	var errs []error
	if len(changed) > 0 {
		errs = append(errs, fmt.Errorf("the cut proxy's ring changed while it was cut: %s", strings.Join(changed, "; ")))
	}
	if stepDown == 0 {
		errs = append(errs, fmt.Errorf("the cut proxy still said it led %v after the cut", time.Since(cutAt).Round(time.Millisecond)))
	} else {
		r.note("the cut proxy stopped leading within %v", stepDown.Round(time.Millisecond))
	}
	if final < before.Membership.Epoch+2 {
		errs = append(errs, fmt.Errorf("the majority's epoch went from %d to %d only", before.Membership.Epoch, final))
	}
	return errors.Join(errs...)
}

// watchServers polls the view of the leader among proxies every second
// until the partition has held for d, and returns the longest the given
// servers took to be seen down (zero if one never was) and the most hints
// the other servers reported at once.
func (r *run) watchServers(proxies []int, servers []string, d time.Duration) (time.Duration, int) {
	start := time.Now()
	seenDown := map[string]time.Duration{}
	peak := 0
	for time.Since(start) < d {
		r.pace(time.Second)
		for _, i := range proxies {
			st, err := r.c.Status(r.ctx, i)
			if err != nil || st.Proxy == nil || !st.Proxy.Leader {
				continue
			}
			hints := 0
			for _, s := range st.Proxy.Servers {
				if slices.Contains(servers, s.ID) {
					if !s.Up && seenDown[s.ID] == 0 {
						seenDown[s.ID] = time.Since(start)
					}
					continue
				}
				hints += int(s.Hints)
			}
			peak = max(peak, hints)
		}
	}
	var slowest time.Duration
	for _, id := range servers {
		if seenDown[id] == 0 {
			return 0, peak
		}
		slowest = max(slowest, seenDown[id])
	}
	return slowest, peak
}

// serverIsolated: one server isolated, then healed. The others take its
// writes (sloppy quorum) and keep hints, which they hand to it after the
// heal.
func serverIsolated(r *run) error {
	victim := pick(r.rng, r.c.servers, 1)[0]
	if err := r.net.isolate(r.ctx, victim.host.name); err != nil {
		return err
	}
	r.logf("isolated server %s", victim.id)
	down, hints := r.watchServers([]int{0, 1, 2}, []string{victim.id}, r.duration)
	if err := r.heal(); err != nil {
		return err
	}
	r.note("isolated server %s for %v; the leader saw it down within %v; hints on the others peaked at %d", victim.id, r.duration, down, hints)
	var errs []error
	if down == 0 {
		errs = append(errs, fmt.Errorf("the leader never saw %s down", victim.id))
	}
	if hints == 0 {
		errs = append(errs, fmt.Errorf("no server reported a hint for %s while it was isolated", victim.id))
	}
	return errors.Join(errs...)
}

// minorityCut: two servers cut off from every proxy (they still reach
// each other, on the other bridge), then healed.
func minorityCut(r *run) error {
	cut := pick(r.rng, r.c.servers, 2)
	var names, ids []string
	for _, s := range cut {
		names, ids = append(names, s.host.name), append(ids, s.id)
	}
	if err := r.net.split(r.ctx, names); err != nil {
		return err
	}
	r.logf("cut servers %v off from every proxy", ids)
	down, hints := r.watchServers([]int{0, 1, 2}, ids, r.duration)
	if err := r.heal(); err != nil {
		return err
	}
	r.note("cut servers %v off for %v; the leader saw both down within %v; hints on the others peaked at %d", ids, r.duration, down, hints)
	if down == 0 {
		return fmt.Errorf("the leader never saw both of %v down", ids)
	}
	return nil
}

// clientsCut: one client group cut from its home proxy only (its writers
// and device fail over to another), another cut from everything (its
// device edits offline and pushes after the heal), then healed.
func clientsCut(r *run) error {
	gs := pick(r.rng, r.groups, 2)
	failover, offline := gs[0], gs[1]
	if r.rng.IntN(2) == 0 {
		failover, offline = offline, failover
	}
	if err := r.net.cut(r.ctx, failover.host.name, r.proxyHost(failover.home)); err != nil {
		return err
	}
	if err := r.net.isolate(r.ctx, offline.host.name); err != nil {
		return err
	}
	r.note("client group %d cut from its proxy %s, client group %d from everything, for %v",
		failover.index, r.proxyHost(failover.home), offline.index, r.duration)
	r.after = append(r.after, func(gs []groupStats) error {
		var errs []error
		if gs[failover.index].Writers.Failovers == 0 {
			errs = append(errs, fmt.Errorf("no writer of client group %d failed over from its proxy", failover.index))
		}
		if gs[offline.index].DeviceOffline == 0 {
			errs = append(errs, fmt.Errorf("the device of client group %d made no edit offline", offline.index))
		}
		return errors.Join(errs...)
	})
	r.pace(r.duration)
	return r.heal()
}

// bridgeSplit: the network split in two — one proxy with two servers and
// the client group homed at it on one side, the other two proxies, three
// servers and the other groups on the other — then healed. Both sides
// keep taking writes: W = 2 servers reachable on each.
func bridgeSplit(r *run) error {
	alone := r.rng.IntN(3)
	side := []string{r.proxyHost(alone), r.groups[alone].host.name}
	var ids []string
	for _, s := range pick(r.rng, r.c.servers, 2) {
		side, ids = append(side, s.host.name), append(ids, s.id)
	}
	sts, _ := r.c.Statuses(r.ctx)
	wasLeader := false
	if st, ok := sts[alone]; ok && st.Membership.RaftState == "Leader" {
		wasLeader = true
	}
	if err := r.net.split(r.ctx, side); err != nil {
		return err
	}
	r.logf("split: proxy %s, servers %v and client group %d | the rest", r.proxyHost(alone), ids, alone)
	start := time.Now()
	majority := others(3, alone)
	leader, _, lerr := r.leaderAmong(majority, 30*time.Second)
	down, hints := r.watchServers(majority, ids, r.duration-time.Since(start))
	if err := r.heal(); err != nil {
		return err
	}
	lead := "none"
	if lerr == nil {
		lead = r.proxyHost(leader)
	}
	r.note("split for %v: {proxy %s (leader before: %v), servers %v, client group %d} | {the rest, led by %s, which saw both servers down within %v; hints on its side peaked at %d}",
		r.duration, r.proxyHost(alone), wasLeader, ids, alone, lead, down, hints)
	if lerr == nil && down == 0 {
		lerr = fmt.Errorf("the majority's leader never saw both of %v down", ids)
	}
	return lerr
}

// flapping: one link — the leader proxy's, a server's or a client
// group's, as the seed says — cut and restored every few hundred
// milliseconds.
func flapping(r *run) error {
	var target, what string
	switch r.rng.IntN(3) {
	case 0:
		leader, _, err := r.leaderAmong([]int{0, 1, 2}, 20*time.Second)
		if err != nil {
			return err
		}
		target, what = r.proxyHost(leader), "the leader proxy "+r.proxyHost(leader)
	case 1:
		s := pick(r.rng, r.c.servers, 1)[0]
		target, what = s.host.name, "server "+s.id
	default:
		g := pick(r.rng, r.groups, 1)[0]
		target, what = g.host.name, fmt.Sprintf("client group %d", g.index)
	}
	start := time.Now()
	flaps := 0
	for time.Since(start) < r.flap {
		if err := r.net.isolate(r.ctx, target); err != nil {
			return err
		}
		r.pace(between(r, 100*time.Millisecond, 600*time.Millisecond))
		if err := r.net.rejoin(r.ctx, target); err != nil {
			return err
		}
		flaps++
		r.pace(between(r, 100*time.Millisecond, 600*time.Millisecond))
	}
	r.healed = time.Now()
	r.note("flapped the link of %s %d times in %v", what, flaps, time.Since(start).Round(time.Millisecond))
	return nil
}

// between returns a random duration in [lo, hi).
func between(r *run, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
}
