package membership

import (
	"context"

	"github.com/hashicorp/raft"
)

// Status is what `proxy status` shows of the membership: the Raft group as
// this node sees it and the committed ring state.
type Status struct {
	ID         string  `json:"id"`         // this node
	RaftState  string  `json:"raft_state"` // Leader, Follower, Candidate or Shutdown
	LeaderID   string  `json:"leader_id"`  // "" when no leader is known
	LeaderAddr string  `json:"leader_addr"`
	Voters     []Voter `json:"voters"` // the Raft group's voters
	Term       uint64  `json:"term"`
	// CommitIndex and AppliedIndex are Raft's indexes: the state below is
	// the one of AppliedIndex.
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`

	Epoch   uint64      `json:"epoch"`
	N       int         `json:"n"`      // 0 until the leader commits it
	VNodes  int         `json:"vnodes"` // 0 until the leader commits it
	Members []Member    `json:"members"`
	Removed []string    `json:"removed"` // sorted
	Proxies []ProxyInfo `json:"proxies"` // the group's proxies, sorted by ID
	// Admitted are the storage servers admitted to the backend, with
	// their keys, sorted by ID.
	Admitted []Admitted `json:"admitted"`
}

// orEmpty returns s, or an empty slice for a nil one.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Status returns the node's view of the group and the committed state.
func (n *Node) Status(ctx context.Context) (Status, error) {
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	cf := n.raft.GetConfiguration()
	if err := n.wait(ctx, cf); err != nil {
		return Status{}, err
	}
	st := n.fsm.copyState()
	s := Status{
		ID:           n.cfg.ID,
		RaftState:    n.raft.State().String(),
		Term:         n.raft.CurrentTerm(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
		Epoch:        st.epoch,
		N:            st.n,
		VNodes:       st.vnodes,
		Members:      st.sortedMembers(),
		Removed:      st.sortedRemoved(),
		Proxies:      st.sortedProxies(),
		Admitted:     st.sortedAdmitted(),
	}
	s.LeaderID, s.LeaderAddr = n.Leader()
	s.Voters = []Voter{}
	for _, srv := range cf.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			s.Voters = append(s.Voters, Voter{ID: string(srv.ID), Addr: string(srv.Address)})
		}
	}
	// Empty, not null, in JSON: scripts index them without a check.
	s.Members, s.Removed = orEmpty(s.Members), orEmpty(s.Removed)
	s.Proxies, s.Admitted = orEmpty(s.Proxies), orEmpty(s.Admitted)
	return s, nil
}
