package launcher

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/groupca"
)

// ErrNoLeader means the running proxies do not agree on a Raft leader
// among them (an election is under way, or too few proxies run).
var ErrNoLeader = errors.New("cluster: no agreed leader proxy")

// statusTimeout bounds one status request when ctx has no earlier deadline.
const statusTimeout = 5 * time.Second

// operator returns a client of the proxies' admin APIs with the operator
// credentials in proxy 0's data directory, loaded on first use (they are
// written when the group is founded).
func (c *Cluster) operator() (*admin.Client, error) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if c.op == nil {
		creds, err := admin.LoadOperator(groupca.DirIn(proxyDir(c.cfg.Data, 0)))
		if err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		c.op = admin.NewClient(creds)
	}
	return c.op, nil
}

// Status asks proxy i for its status through its admin API (GET
// /v1/status), within statusTimeout at most.
func (c *Cluster) Status(ctx context.Context, i int) (admin.Status, error) {
	c.mu.Lock()
	p, err := c.proxyLocked(i)
	var addr string
	if err == nil {
		addr = p.addrs.admin
		if addr == "" {
			err = fmt.Errorf("cluster: %s reported no admin address", p.name)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return admin.Status{}, err
	}
	client, err := c.operator()
	if err != nil {
		return admin.Status{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, err := client.Status(ctx, addr)
	if err != nil {
		return admin.Status{}, fmt.Errorf("cluster: status of %s: %w", addr, err)
	}
	return st, nil
}

// Statuses returns the status of every running proxy that is not paused,
// by index, and the errors of those that did not answer.
func (c *Cluster) Statuses(ctx context.Context) (map[int]admin.Status, error) {
	out := map[int]admin.Status{}
	var errs []error
	for _, p := range c.Proxies() {
		if !p.Running || p.Paused {
			continue
		}
		st, err := c.Status(ctx, p.Index)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[p.Index] = st
	}
	return out, errors.Join(errs...)
}

// LeaderProxy returns the index of the proxy leading the Raft group: a
// running proxy whose status says it is the leader and which every other
// running proxy that answers names as its leader. It fails with
// ErrNoLeader when there is none such now; it does not wait.
func (c *Cluster) LeaderProxy(ctx context.Context) (int, error) {
	sts, _ := c.Statuses(ctx)
	leader, leaderID := -1, ""
	for i, st := range sts {
		if st.Membership.RaftState == "Leader" {
			if leader >= 0 {
				return -1, fmt.Errorf("%w: proxies %d and %d both say they lead", ErrNoLeader, leader, i)
			}
			leader, leaderID = i, st.Membership.ID
		}
	}
	if leader < 0 {
		return -1, fmt.Errorf("%w: none of the %d proxies answering leads", ErrNoLeader, len(sts))
	}
	idx := make([]int, 0, len(sts))
	for i := range sts {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		if got := sts[i].Membership.LeaderID; got != leaderID {
			return -1, fmt.Errorf("%w: proxy %d says the leader is %q, proxy %d is %q", ErrNoLeader, i, got, leader, leaderID)
		}
	}
	return leader, nil
}
