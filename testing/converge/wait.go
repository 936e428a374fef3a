package converge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"shoplist/cluster/admin"
	"shoplist/hashring"
)

// Source is where Wait reads the proxies' statuses: every proxy that
// answers, by index, and the errors of those that did not.
type Source interface {
	Statuses(ctx context.Context) (map[int]admin.Status, error)
}

// Result is what Wait found.
type Result struct {
	N, VNodes   int    // the ring's replicas per list and virtual nodes per server
	Detail      string // what the wait saw last
	AntiEntropy string // the leader's anti-entropy figures
}

// ErrNotConverged wraps the last reason convergence was not reached.
var ErrNotConverged = errors.New("not converged")

// ErrNoLeader means the proxies that answer do not agree on a Raft leader.
var ErrNoLeader = errors.New("no agreed leader proxy")

// Wait waits, until converge has passed since healed, for the cluster of
// proxies proxies to have converged:
//
//   - every proxy answers with the same epoch and members, all of ids
//     active, placed and up;
//   - on the leader, every server has reported since healed that it has no
//     hint and nothing left to move;
//   - the leader's anti-entropy has then compared at least every primary
//     range of the ring once, finding each in sync and repairing nothing.
//
// Any change to those (a repair, a new leader, a hint) starts the quiet
// pass again. logf is told what it waits for every few seconds.
func Wait(ctx context.Context, src Source, proxies int, ids []string, healed time.Time, converge time.Duration,
	logf func(string, ...any)) (Result, error) {
	deadline := healed.Add(converge)
	ids = slices.Sorted(slices.Values(ids))
	var base *admin.Status // leader's status when the quiet pass began
	baseLeader := -1
	why := ""
	lastLog := time.Now()
	for {
		st, leader, ranges, reason := settled(ctx, src, proxies, ids, healed)
		switch {
		case reason != "":
			base, why = nil, reason
		case base == nil || leader != baseLeader || st.Proxy.AntiEntropy.ListsRepaired != base.Proxy.AntiEntropy.ListsRepaired:
			if base != nil {
				why = "anti-entropy repaired lists or the leader changed: starting the quiet pass again"
			}
			base, baseLeader = &st, leader
		default:
			ae, b := st.Proxy.AntiEntropy, base.Proxy.AntiEntropy
			compared, inSync := ae.RangesCompared-b.RangesCompared, ae.RangesInSync-b.RangesInSync
			if compared != inSync {
				base, why = &st, fmt.Sprintf("a range compared out of sync (%d compared, %d in sync)", compared, inSync)
				break
			}
			if inSync >= uint64(ranges) {
				return Result{
					N: st.Membership.N, VNodes: st.Membership.VNodes,
					Detail: fmt.Sprintf("epoch %d, %d ranges compared in sync in a row on proxy %d", st.Membership.Epoch, inSync, leader),
					AntiEntropy: fmt.Sprintf("%d rounds, %d ranges compared (%d in sync), %d lists repaired, %d bytes sent, %d received, last round %v",
						ae.Rounds, ae.RangesCompared, ae.RangesInSync, ae.ListsRepaired, ae.BytesSent, ae.BytesReceived, ae.LastRound),
				}, nil
			}
			why = fmt.Sprintf("quiet anti-entropy pass: %d of %d ranges in sync", inSync, ranges)
		}
		if time.Now().After(deadline) {
			return Result{}, fmt.Errorf("%w: %s", ErrNotConverged, why)
		}
		if time.Since(lastLog) > 5*time.Second {
			logf("converging: %s", why)
			lastLog = time.Now()
		}
		select { // polling: nothing announces convergence
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// settled checks the first two conditions of Wait and returns the
// leader's status, its index and the number of primary ranges of the ring,
// or why not.
func settled(ctx context.Context, src Source, proxies int, ids []string, healed time.Time) (admin.Status, int, int, string) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sts, err := src.Statuses(sctx)
	if err != nil {
		return admin.Status{}, 0, 0, err.Error()
	}
	if len(sts) != proxies {
		return admin.Status{}, 0, 0, fmt.Sprintf("%d of %d proxies answered", len(sts), proxies)
	}
	var first string
	for _, i := range slices.Sorted(maps.Keys(sts)) {
		st := sts[i]
		if st.Proxy == nil {
			return admin.Status{}, 0, 0, fmt.Sprintf("proxy %d: %s", i, st.ProxyError)
		}
		var members, active []string
		for _, m := range st.Membership.Members {
			members = append(members, fmt.Sprintf("%s:%v", m.ID, m.State))
			if !slices.Contains(ids, m.ID) {
				return admin.Status{}, 0, 0, fmt.Sprintf("proxy %d has %s (%v) as a member, not one of %v", i, m.ID, m.State, ids)
			}
		}
		for _, s := range st.Proxy.Servers {
			if s.State == "active" {
				if !s.Up {
					return admin.Status{}, 0, 0, fmt.Sprintf("proxy %d sees %s down", i, s.ID)
				}
				active = append(active, fmt.Sprintf("%s@%v", s.ID, s.Positions))
			}
		}
		view := fmt.Sprintf("epoch %d/%d members %s placed %s", st.Membership.Epoch, st.Proxy.Epoch, strings.Join(members, " "), strings.Join(active, " "))
		if first == "" {
			first = view
		} else if view != first {
			return admin.Status{}, 0, 0, fmt.Sprintf("proxies disagree: %q vs %q", view, first)
		}
		if len(active) != len(ids) {
			return admin.Status{}, 0, 0, fmt.Sprintf("proxy %d places %d servers, want %d", i, len(active), len(ids))
		}
	}
	leader, err := Leader(sts)
	if err != nil {
		return admin.Status{}, 0, 0, err.Error()
	}
	st := sts[leader]
	for _, s := range st.Proxy.Servers {
		switch {
		case s.State == "":
			continue // connected, not a member: a removed server still running
		case !s.Reported || !s.ReportedAt.After(healed):
			return admin.Status{}, 0, 0, fmt.Sprintf("%s has not reported since the faults ended", s.ID)
		case s.Hints > 0 || s.Moving > 0:
			return admin.Status{}, 0, 0, fmt.Sprintf("%s has %d hints, %d lists to move", s.ID, s.Hints, s.Moving)
		}
	}
	ranges := len(hashring.New(ids, hashring.WithVNodes(st.Membership.VNodes)).Ranges())
	return st, leader, ranges, ""
}

// Leader returns the index of the proxy leading the Raft group among
// sts: one whose status says it is the leader and which every other names
// as its leader; ErrNoLeader when there is none such.
func Leader(sts map[int]admin.Status) (int, error) {
	leader, leaderID := -1, ""
	idx := slices.Sorted(maps.Keys(sts))
	for _, i := range idx {
		if st := sts[i]; st.Membership.RaftState == "Leader" {
			if leader >= 0 {
				return -1, fmt.Errorf("%w: proxies %d and %d both say they lead", ErrNoLeader, leader, i)
			}
			leader, leaderID = i, st.Membership.ID
		}
	}
	if leader < 0 {
		return -1, fmt.Errorf("%w: none of the %d proxies answering leads", ErrNoLeader, len(sts))
	}
	for _, i := range idx {
		if got := sts[i].Membership.LeaderID; got != leaderID {
			return -1, fmt.Errorf("%w: proxy %d says the leader is %q, proxy %d is %q", ErrNoLeader, i, got, leader, leaderID)
		}
	}
	return leader, nil
}
