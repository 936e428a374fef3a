package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

const (
	// registerRetry is how long the Node waits before it tries again to
	// commit its own record after a failure (no leader for the whole
	// ApplyTimeout, a refusal).
	registerRetry = time.Second
	// catchUpPoll is how often CatchUp looks at a follower's applied
	// index: Raft tells nobody when it grows.
	catchUpPoll = 2 * time.Millisecond
)

// IsLeader reports whether this node is the Raft leader (placement.Leader).
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// SetSelf sets this proxy's record: the Node commits it (through the leader
// if this node follows) and commits it again whenever the committed one
// differs, until Close. Its ID is set to the Node's. It returns an error
// wrapping ErrConfig if the record cannot be committed as it is.
func (n *Node) SetSelf(p ProxyInfo) error {
	p.ID = n.cfg.ID
	if err := p.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	n.self.Store(&p)
	select {
	case n.selfKick <- struct{}{}:
	default:
	}
	return nil
}

// SelfCommitted reports whether this proxy's record, as last set, is the
// committed one.
func (n *Node) SelfCommitted() bool {
	want := n.self.Load()
	if want == nil {
		return false
	}
	got, ok := n.fsm.proxy(want.ID)
	return ok && got == *want
}

// Proxies returns the committed proxies of the group, sorted by ID.
func (n *Node) Proxies() []ProxyInfo { return n.fsm.proxies() }

// AdminAddr returns the admin address of the proxy whose Raft address is
// raftAddr, from the committed proxies; false if none is recorded (or it
// has no admin address).
func (n *Node) AdminAddr(raftAddr string) (string, bool) {
	for _, p := range n.fsm.proxies() {
		if p.Raft == raftAddr && p.Admin != "" {
			return p.Admin, true
		}
	}
	return "", false
}

// InGroup reports whether the latest Raft configuration this node knows has
// it as a voter at its current address: a proxy restarted on the same
// address need not ask to be added again.
func (n *Node) InGroup() bool {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(n.cfg.ID) {
			return s.Suffrage == raft.Voter && s.Address == n.trans.LocalAddr()
		}
	}
	return false
}

// register keeps this proxy's committed record equal to the one set by
// SetSelf: it commits it after SetSelf and after any committed change that
// leaves it different (a restore from a snapshot of an older state), and
// retries after a failure, until Close.
func (n *Node) register() {
	defer n.wg.Done()
	for {
		var retry *time.Timer
		if want := n.self.Load(); want != nil && !n.SelfCommitted() {
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ApplyTimeout)
			err := n.propose(ctx, proxyCommand(*want))
			cancel()
			if err != nil && n.ctx.Err() == nil {
				n.log.Warn("membership: recording this proxy in the group", "proxy", want.ID, "err", err)
				retry = time.NewTimer(registerRetry)
			}
		}
		var retryC <-chan time.Time
		if retry != nil {
			retryC = retry.C
		}
		select {
		case <-n.ctx.Done():
		case <-n.selfKick:
		case <-n.fsm.notify:
		case <-retryC:
		}
		if retry != nil {
			retry.Stop()
		}
		if n.ctx.Err() != nil {
			return
		}
	}
}

// groupTimeouts reports whether cfg asks for its GroupTimeouts: they are
// set and the group has or is about to have several voters.
func groupTimeouts(cfg Config, rc *raft.Config, st *stores, trans raft.Transport) (bool, error) {
	if cfg.GroupTimeouts == (Timeouts{}) {
		return false, nil
	}
	if cfg.NoBootstrap || len(cfg.Voters) > 1 {
		return true, nil
	}
	has, err := raft.HasExistingState(st.logs, st.stable, st.snaps)
	if err != nil || !has {
		return false, err
	}
	// The latest configuration, as NewRaft would find it, without
	// restoring the state machine or starting anything, and on a
	// transport of its own: peers' heartbeats must not reach the probe.
	probe := *rc
	probe.NoSnapshotRestoreOnStart = true
	probe.Logger = hclog.NewNullLogger()
	_, probeTrans := raft.NewInmemTransport(trans.LocalAddr())
	defer probeTrans.Close()
	conf, err := raft.GetConfiguration(&probe, newFSM(cfg.VNodes), st.logs, st.stable, st.snaps, probeTrans)
	if err != nil {
		return false, fmt.Errorf("membership: reading the stored raft configuration: %w", err)
	}
	voters := 0
	for _, s := range conf.Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	return voters > 1, nil
}

// CatchUp waits until this node has applied every entry committed when it
// is called (on the leader, every entry of earlier terms too: a Barrier),
// so that View is the latest committed state rather than a step on the
// way to it, as right after a restart, when the log is replayed. It
// returns ctx's error if ctx ends first.
func (n *Node) CatchUp(ctx context.Context) error {
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	if n.IsLeader() {
		err := n.wait(ctx, n.raft.Barrier(n.enqueueTimeout(ctx)))
		if err == nil || !errors.Is(err, ErrNotLeader) {
			return err
		}
	}
	target := n.raft.CommitIndex()
	tick := time.NewTicker(catchUpPoll)
	defer tick.Stop()
	for n.raft.AppliedIndex() < target {
		select {
		case <-ctx.Done():
			return fmt.Errorf("membership: catching up to entry %d (applied %d): %w", target, n.raft.AppliedIndex(), ctx.Err())
		case <-n.ctx.Done():
			return ErrClosed
		case <-tick.C:
		}
	}
	return nil
}
