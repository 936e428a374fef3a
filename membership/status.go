package membership

import (
	"context"

	"github.com/hashicorp/raft"
)

// Status is what `proxy status` shows of the membership: the Raft group as
// this node sees it and the committed ring state.
type Status struct {
	ID         string // this node
	RaftState  string // Leader, Follower, Candidate or Shutdown
	LeaderID   string // "" when no leader is known
	LeaderAddr string
	Voters     []Voter // the Raft group's voters
	Term       uint64
	// CommitIndex and AppliedIndex are Raft's indexes: the state below is
	// the one of AppliedIndex.
	CommitIndex, AppliedIndex uint64

	Epoch     uint64
	N, VNodes int      // 0 until the leader commits them
	Members   []Member // sorted by ID
	Removed   []string // sorted
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
	}
	s.LeaderID, s.LeaderAddr = n.Leader()
	for _, srv := range cf.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			s.Voters = append(s.Voters, Voter{ID: string(srv.ID), Addr: string(srv.Address)})
		}
	}
	return s, nil
}
