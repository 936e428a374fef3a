//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/cluster/admin"
	"shoplist/cluster/launcher"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/testing/ledger"
	"shoplist/testing/testcluster"
)

// converged is what waitConverged found.
type converged struct {
	n, vnodes   int
	detail      string // what the wait saw last
	antiEntropy string // the leader's anti-entropy figures
}

// waitConverged waits, until converge has passed since healed, for the
// cluster to have converged:
//
//   - every proxy answers with the same epoch and members, all of ids
//     active, placed and up;
//   - on the leader, every server has reported since healed that it has no
//     hint and nothing left to move;
//   - the leader's anti-entropy has then compared at least every primary
//     range of the ring once, finding each in sync and repairing nothing.
//
// Any change to those (a repair, a new leader, a hint) starts the quiet
// pass again.
func waitConverged(ctx context.Context, c *launcher.Cluster, ids []string, healed time.Time, converge time.Duration,
	logf func(string, ...any)) (converged, error) {
	deadline := healed.Add(converge)
	ids = slices.Sorted(slices.Values(ids))
	var base *admin.Status // leader's status when the quiet pass began
	baseLeader := -1
	why := ""
	lastLog := time.Now()
	for {
		st, leader, ranges, reason := settled(ctx, c, ids, healed)
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
				return converged{
					n: st.Membership.N, vnodes: st.Membership.VNodes,
					detail: fmt.Sprintf("epoch %d, %d ranges compared in sync in a row on proxy %d", st.Membership.Epoch, inSync, leader),
					antiEntropy: fmt.Sprintf("%d rounds, %d ranges compared (%d in sync), %d lists repaired, %d bytes sent, %d received, last round %v",
						ae.Rounds, ae.RangesCompared, ae.RangesInSync, ae.ListsRepaired, ae.BytesSent, ae.BytesReceived, ae.LastRound),
				}, nil
			}
			why = fmt.Sprintf("quiet anti-entropy pass: %d of %d ranges in sync", inSync, ranges)
		}
		if time.Now().After(deadline) {
			return converged{}, fmt.Errorf("%w: %s", errNotConverged, why)
		}
		if time.Since(lastLog) > 5*time.Second {
			logf("chaos: converging: %s", why)
			lastLog = time.Now()
		}
		select { // polling: nothing announces convergence
		case <-ctx.Done():
			return converged{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// settled checks the first two conditions of waitConverged and returns the
// leader's status, its index and the number of primary ranges of the ring,
// or why not.
func settled(ctx context.Context, c *launcher.Cluster, ids []string, healed time.Time) (admin.Status, int, int, string) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sts, err := c.Statuses(sctx)
	if err != nil {
		return admin.Status{}, 0, 0, err.Error()
	}
	if len(sts) != len(c.Proxies()) {
		return admin.Status{}, 0, 0, fmt.Sprintf("%d of %d proxies answered", len(sts), len(c.Proxies()))
	}
	var first string
	for i, st := range sts {
		if st.Proxy == nil {
			return admin.Status{}, 0, 0, fmt.Sprintf("proxy %d: %s", i, st.ProxyError)
		}
		var members, active []string
		for _, m := range st.Membership.Members {
			members = append(members, fmt.Sprintf("%s:%v", m.ID, m.State))
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
	leader, err := c.LeaderProxy(sctx)
	if err != nil {
		return admin.Status{}, 0, 0, err.Error()
	}
	st := sts[leader]
	for _, s := range st.Proxy.Servers {
		switch {
		case !s.Reported || !s.ReportedAt.After(healed):
			return admin.Status{}, 0, 0, fmt.Sprintf("%s has not reported since the faults ended", s.ID)
		case s.Hints > 0 || s.Moving > 0:
			return admin.Status{}, 0, 0, fmt.Sprintf("%s has %d hints, %d lists to move", s.ID, s.Hints, s.Moving)
		}
	}
	ranges := len(hashring.New(ids, hashring.WithVNodes(st.Membership.VNodes)).Ranges())
	return st, leader, ranges, ""
}

// syncClients starts k clients as a user runs them (a replica directory and
// a sync engine failing over between every proxy), has each join every
// list and sync, and returns each client's lists.
func syncClients(ctx context.Context, t *testing.T, endpoints []string, lists []uuid.UUID, k int) ([]map[uuid.UUID]*crdt.List, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var out []map[uuid.UUID]*crdt.List
	for i := range k {
		store, err := replica.Open(t.TempDir())
		if err != nil {
			return nil, err
		}
		// Client i prefers proxy i: the clients read through different proxies.
		eps := append(slices.Clone(endpoints[i%len(endpoints):]), endpoints[:i%len(endpoints)]...)
		eng, err := syncer.Start(ctx, syncer.Config{Store: store, Endpoints: eps})
		if err != nil {
			store.Close()
			return nil, err
		}
		got, err := syncAll(ctx, eng, store, lists)
		eng.Close()
		store.Close()
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		out = append(out, got)
	}
	return out, nil
}

func syncAll(ctx context.Context, eng *syncer.Engine, store *replica.Store, lists []uuid.UUID) (map[uuid.UUID]*crdt.List, error) {
	for _, id := range lists {
		if err := eng.Join(ctx, id); err != nil {
			return nil, fmt.Errorf("joining %s: %w", id, err)
		}
	}
	if err := eng.WaitSynced(ctx); err != nil {
		return nil, fmt.Errorf("syncing: %w", err)
	}
	got := map[uuid.UUID]*crdt.List{}
	for _, id := range lists {
		e, err := store.Get(id)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", id, err)
		}
		got[id] = e.List
	}
	return got, nil
}

// compareClients returns what differs between the clients' lists, and
// every part of a client's list that lacks an acknowledged edit or holds
// one no writer attempted (ledger.Ledger.Check), named by list and part,
// with the writers whose acknowledged edit is missing.
func compareClients(states []map[uuid.UUID]*crdt.List, acked *ledger.Ledger) []string {
	var problems []string
	for _, id := range acked.Lists() {
		var first []byte
		for i, st := range states {
			l := st[id]
			if v := acked.Check(id, l); !v.OK() || v.Missing > 0 {
				problems = append(problems, fmt.Sprintf("client %d, list %s: %d parts lost, %d invented", i, id, v.Lost, v.Invented))
				for _, f := range v.Named(20) {
					problems = append(problems, fmt.Sprintf("client %d: %s", i, f))
				}
			}
			if l == nil {
				continue
			}
			enc := l.Encode()
			if first == nil {
				first = enc
			} else if !bytes.Equal(enc, first) {
				problems = append(problems, fmt.Sprintf("list %s: client %d sees another state than client 0", id, i))
			}
		}
	}
	return problems
}

// compareWithStores returns the lists whose state the clients see differs
// from the one its owners store.
func compareWithStores(states []map[uuid.UUID]*crdt.List, stores []testcluster.StoredServer, ring *hashring.Ring, n int) []string {
	if len(states) == 0 {
		return nil
	}
	byID := map[string]testcluster.StoredServer{}
	for _, s := range stores {
		byID[s.ID] = s
	}
	var problems []string
	for id, l := range states[0] {
		owner := ring.Owners(id.String(), n)[0]
		stored, ok := byID[owner].Lists[id]
		if l == nil || !ok {
			continue // reported elsewhere
		}
		if !bytes.Equal(l.Encode(), stored) {
			problems = append(problems, fmt.Sprintf("list %s: the clients see another state than owner %s stores", id, owner))
		}
	}
	return problems
}
