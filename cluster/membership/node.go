package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"shoplist/cluster/placement"
	"shoplist/protocol"
)

// Retry pacing of a change that finds no leader, or a leader that stepped
// down: it is tried again until its context ends.
const (
	retryFirst = 5 * time.Millisecond
	retryMax   = 200 * time.Millisecond
)

// Node is one proxy's member of the Raft group that decides the ring. It
// implements placement.Membership: View is the committed state's ring; Join,
// Leave and Remove return once their change is committed (or refused).
// All methods are safe for concurrent use.
type Node struct {
	cfg    Config
	log    *slog.Logger
	fsm    *fsm
	raft   *raft.Raft
	trans  raft.Transport
	stores *stores

	ctx    context.Context // ends when Close starts; stops the watchers and retries
	cancel context.CancelFunc
	wg     sync.WaitGroup // the watcher goroutines

	self     atomic.Pointer[ProxyInfo] // this proxy's record, once set
	selfKick chan struct{}             // SetSelf's signal to register

	closeOnce sync.Once
	closeErr  error // Close's result, set once
}

var (
	_ placement.Membership = (*Node)(nil)
	_ placement.Leader     = (*Node)(nil)
	_ placement.Leaver     = (*Node)(nil)
)

// Open starts a Node: it opens the stores in cfg.Dir, bootstraps the Raft
// group if the stores are empty (unless cfg.NoBootstrap), and starts Raft
// with cfg.Timeouts or, for a group of several voters, cfg.GroupTimeouts.
// The state of a previous run is restored from the latest snapshot at once,
// and from the log entries after it once they are known to be committed
// (when a leader is in contact).
func Open(cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hlog := newHCLog(cfg.Logger, "raft")
	st, err := openStores(cfg.Dir, cfg.Snapshots.Retain, hlog)
	if err != nil {
		return nil, err
	}
	trans, err := openTransport(cfg, hlog)
	if err != nil {
		return nil, errors.Join(err, st.close())
	}
	fail := func(err error) (*Node, error) {
		return nil, errors.Join(err, closeTransport(trans), st.close())
	}
	rc := cfg.raftConfig()
	if err := raft.ValidateConfig(rc); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrConfig, err))
	}
	g := cfg
	g.Timeouts = cfg.GroupTimeouts
	grc := g.raftConfig()
	if err := raft.ValidateConfig(grc); err != nil {
		return fail(fmt.Errorf("%w: group timeouts: %w", ErrConfig, err))
	}
	group, err := groupTimeouts(cfg, rc, st, trans)
	if err != nil {
		return fail(err)
	}
	if group {
		rc = grc
	}
	if !cfg.NoBootstrap {
		if err := bootstrap(cfg, rc, st, trans); err != nil {
			return fail(err)
		}
	}
	f := newFSM(cfg.VNodes)
	r, err := raft.NewRaft(rc, f, st.logs, st.stable, st.snaps, trans)
	if err != nil {
		return fail(fmt.Errorf("membership: starting raft: %w", err))
	}
	n := &Node{cfg: cfg, log: cfg.Logger, fsm: f, raft: r, trans: trans, stores: st, selfKick: make(chan struct{}, 1)}
	if cfg.Self != nil {
		n.self.Store(cfg.Self)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.wg.Add(2)
	go n.watch()
	go n.register()
	return n, nil
}

// bootstrap writes the initial group to empty stores; stores that hold
// Raft state already are left alone.
func bootstrap(cfg Config, rc *raft.Config, st *stores, trans raft.Transport) error {
	has, err := raft.HasExistingState(st.logs, st.stable, st.snaps)
	if err != nil {
		return fmt.Errorf("membership: reading raft state: %w", err)
	}
	if has {
		return nil
	}
	voters := cfg.Voters
	if len(voters) == 0 {
		voters = []Voter{{ID: cfg.ID, Addr: string(trans.LocalAddr())}}
	}
	var conf raft.Configuration
	for _, v := range voters {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(v.ID), Address: raft.ServerAddress(v.Addr)})
	}
	if err := raft.BootstrapCluster(rc, st.logs, st.stable, st.snaps, trans, conf); err != nil {
		return fmt.Errorf("membership: bootstrapping raft: %w", err)
	}
	return nil
}

// watch commits the ring's configuration whenever this node becomes the
// leader and none is committed yet, and warns when the committed one
// differs from this node's Config.
func (n *Node) watch() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case leader := <-n.raft.LeaderCh():
			if !leader {
				continue
			}
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ApplyTimeout)
			err := n.ensureConfigured(ctx)
			cancel()
			if err != nil {
				n.log.Warn("membership: committing the ring configuration", "err", err)
				continue
			}
			wantN, wantV := n.cfg.N, n.cfg.VNodes
			if n.cfg.Seed != nil {
				wantN, wantV = n.cfg.Seed.N, n.cfg.Seed.VNodes
			}
			if cn, cv, _ := n.fsm.configured(); cn != wantN || cv != wantV {
				n.log.Warn("membership: the committed ring configuration differs from this proxy's; the committed one is used",
					"n", cn, "vnodes", cv, "configured_n", wantN, "configured_vnodes", wantV)
			}
		}
	}
}

// View returns the committed ring and its epoch.
func (n *Node) View() placement.View { return n.fsm.current() }

// Changes returns the channel that receives after each applied change.
func (n *Node) Changes() <-chan struct{} { return n.fsm.changes }

// Configured returns a channel closed once this node holds a committed ring
// configuration (N and virtual nodes), from the log or a snapshot; from
// then on EpochBody reports the committed N and VNodes.
func (n *Node) Configured() <-chan struct{} { return n.fsm.ready }

// ID returns this proxy's Raft server ID.
func (n *Node) ID() string { return n.cfg.ID }

// Addr returns the Raft address this node listens on (the bound one, when
// Bind asked for port 0).
func (n *Node) Addr() string { return string(n.trans.LocalAddr()) }

// EpochBody returns the committed state as an EpochAnnounce carries it.
func (n *Node) EpochBody() protocol.EpochBody { return n.fsm.epochBody() }

// Leader returns the leader's ID and Raft address, or empty strings if
// none is known.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// Join adds the server to the ring as active. A member (active or
// leaving) is left as it is, without a round through Raft when this
// node's committed state already has it; a removed server is refused with
// an error wrapping placement.ErrRemoved.
func (n *Node) Join(ctx context.Context, id string) error {
	if err := protocol.CheckServerID(id); err != nil {
		return fmt.Errorf("membership: join: %w", err)
	}
	if n.fsm.current().Has(id) {
		return nil
	}
	return n.propose(ctx, joinCommand(id))
}

// Leave marks a member as leaving: it keeps its place in the ring while
// its ranges are handed over, until Remove. A non-member is
// placement.ErrNotMember.
func (n *Node) Leave(ctx context.Context, id string) error {
	if err := protocol.CheckServerID(id); err != nil {
		return fmt.Errorf("%w: %w", placement.ErrNotMember, err)
	}
	return n.propose(ctx, leaveCommand(id))
}

// Remove takes the server out of the ring for good; it cannot rejoin under
// the same ID. A non-member is placement.ErrNotMember.
func (n *Node) Remove(ctx context.Context, id string) error {
	if err := protocol.CheckServerID(id); err != nil {
		return fmt.Errorf("%w: %w", placement.ErrNotMember, err)
	}
	return n.propose(ctx, removeCommand(id))
}

// ApplyCommand is the leader's side of a Forwarder: it applies a command a
// follower forwarded and returns once it is committed, or its refusal. On
// a node that is not the leader it returns ErrNotLeader (naming the
// leader) or ErrNoLeader, and the follower tries again.
func (n *Node) ApplyCommand(ctx context.Context, cmd []byte) error {
	if _, err := decodeCommand(cmd); err != nil {
		return err
	}
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	return n.applyAsLeader(ctx, cmd)
}

// propose makes the change c: applied here on the leader, forwarded to the
// leader from a follower, tried again while no leader is known or the
// leader changes, until ctx ends.
func (n *Node) propose(ctx context.Context, c command) error {
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	cmd := c.encode()
	wait := retryFirst
	for {
		final, err := n.route(ctx, cmd)
		if err == nil || final || !retryable(c, err) {
			return err
		}
		n.log.Debug("membership: retrying a change", "op", c.op, "server", c.id, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("membership: %s %s: %w: %w", c.op, c.id, ctx.Err(), err)
		case <-n.ctx.Done():
			t.Stop()
			return ErrClosed
		case <-t.C:
		}
		wait = min(2*wait, retryMax)
	}
}

// retryable reports whether err means c was not applied and may be tried
// again: no leader, or a node that is not (or no longer) the leader. A
// leadership lost after c was appended leaves it undecided: only
// idempotent changes are tried again then (Remove and Revoke are not: a
// second try of a committed removal would report ErrNotMember).
func retryable(c command, err error) bool {
	switch {
	case errors.Is(err, ErrNoLeader), errors.Is(err, ErrNotLeader):
		return true
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, ErrUndecided):
		return c.op != opRemove && c.op != opRevoke
	}
	return false
}

// route applies cmd on this node if it leads, or forwards it to the
// leader. final reports an error that no retry can cure (a follower
// without a Forwarder).
func (n *Node) route(ctx context.Context, cmd []byte) (final bool, err error) {
	if n.raft.State() == raft.Leader {
		return false, n.applyAsLeader(ctx, cmd)
	}
	addr, id := n.raft.LeaderWithID()
	if addr == "" {
		return false, n.notLeader()
	}
	if n.cfg.Forwarder == nil {
		return true, fmt.Errorf("%w: %s is a follower without a forwarder; the leader is %s at %s", ErrNotLeader, n.cfg.ID, id, addr)
	}
	return false, n.cfg.Forwarder.Forward(ctx, string(addr), cmd)
}

// notLeader returns ErrNotLeader naming the leader, or ErrNoLeader.
func (n *Node) notLeader() error {
	addr, id := n.raft.LeaderWithID()
	if addr == "" {
		return fmt.Errorf("%w: %s knows of none", ErrNoLeader, n.cfg.ID)
	}
	return fmt.Errorf("%w: %s is a follower; the leader is %s at %s", ErrNotLeader, n.cfg.ID, id, addr)
}

// applyAsLeader commits the ring's configuration if it is not yet, then
// cmd; the leader logs the admissions it commits.
func (n *Node) applyAsLeader(ctx context.Context, cmd []byte) error {
	if err := n.ensureConfigured(ctx); err != nil {
		return err
	}
	if err := n.checkRecord(cmd); err != nil {
		return err
	}
	if err := n.commit(ctx, cmd); err != nil {
		return err
	}
	n.logAdmission(cmd)
	return nil
}

// checkRecord refuses a proxy command for a proxy that is not in the
// group's latest Raft configuration: the records of proxies that left are
// pruned (fsm.StoreConfiguration), and one still running must not record
// itself again. Other commands pass.
func (n *Node) checkRecord(cmd []byte) error {
	c, err := decodeCommand(cmd)
	if err != nil || c.op != opProxy {
		return nil // Apply refuses what does not decode, the same way everywhere
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("membership: reading the raft configuration: %w", err)
	}
	for _, srv := range f.Configuration().Servers {
		if string(srv.ID) == c.id {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not in the group's Raft configuration; it is not recorded", ErrNotInGroup, c.id)
}

// ensureConfigured commits this node's N and virtual nodes if no
// configuration is committed yet. A new leader may not have applied its
// predecessors' entries: the barrier waits for them first, so that an
// existing configuration is seen rather than proposed again (a second
// configure would be refused anyway, identically everywhere).
func (n *Node) ensureConfigured(ctx context.Context) error {
	if _, _, ok := n.fsm.configured(); ok {
		return nil
	}
	if err := n.wait(ctx, n.raft.Barrier(n.enqueueTimeout(ctx))); err != nil {
		return err
	}
	if _, _, ok := n.fsm.configured(); ok {
		return nil
	}
	if n.cfg.Seed != nil {
		st, err := n.cfg.Seed.state() // checked by Open
		if err != nil {
			return err
		}
		n.log.Info("membership: seeding the ring", "epoch", st.epoch, "members", len(st.members), "removed", len(st.removed))
		return n.commit(ctx, importCommand(st).encode())
	}
	return n.commit(ctx, configureCommand(n.cfg.N, n.cfg.VNodes).encode())
}

// commit appends cmd to the log and waits until it is applied here; the
// result is Apply's refusal, if any.
func (n *Node) commit(ctx context.Context, cmd []byte) error {
	f := n.raft.Apply(cmd, n.enqueueTimeout(ctx))
	if err := n.wait(ctx, f); err != nil {
		return err
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}

// wait waits for f, ctx or Close, and translates Raft's errors.
func (n *Node) wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return fmt.Errorf("membership: %w (the change may still be committed)", ctx.Err())
	case <-n.ctx.Done():
		return ErrClosed
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return fmt.Errorf("membership: raft: %w", err)
}

// withTimeout gives ctx the default deadline if it has none.
func (n *Node) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, n.cfg.ApplyTimeout)
}

// enqueueTimeout is how long Raft may wait to take a request: what is left
// of ctx's deadline.
func (n *Node) enqueueTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return n.cfg.ApplyTimeout
}

// AddVoter adds a proxy to the Raft group; it must run on the leader. The
// new node, started with NoBootstrap, receives the state by a snapshot or
// the log.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	return n.wait(ctx, n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.enqueueTimeout(ctx)))
}

// RemoveVoter takes a proxy out of the Raft group; it must run on the
// leader. Its record in the proxies table goes with it, when the new
// configuration is committed (fsm.StoreConfiguration).
func (n *Node) RemoveVoter(ctx context.Context, id string) error {
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	return n.wait(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, n.enqueueTimeout(ctx)))
}

// Close shuts Raft down, waits for it and the Node's goroutine, and closes
// the transport and the stores. Changes in progress end with ErrClosed.
// Later calls return the first call's result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		err := n.raft.Shutdown().Error()
		if err != nil {
			err = fmt.Errorf("membership: shutting raft down: %w", err)
		}
		n.wg.Wait()
		n.closeErr = errors.Join(err, closeTransport(n.trans), n.stores.close())
	})
	return n.closeErr
}
