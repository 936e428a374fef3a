package membership

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"

	"shoplist/hashring"
	"shoplist/protocol"
)

// Defaults for the zero fields of a Config.
const (
	DefaultN              = 3
	DefaultApplyTimeout   = 10 * time.Second
	defaultSnapshotRetain = 2
)

// Voter is one member of the Raft group: its ID and Raft address.
type Voter struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// Timeouts are Raft's timers; zero fields keep raft.DefaultConfig's. Tests
// shorten them to elect a leader in milliseconds.
type Timeouts struct {
	Heartbeat   time.Duration // follower's wait for the leader before a candidacy
	Election    time.Duration // candidate's wait for a vote
	LeaderLease time.Duration // leader's wait for contact before stepping down; at most Heartbeat
	Commit      time.Duration // longest wait before an idle leader sends a heartbeat with new commits
}

// Snapshots says when Raft snapshots the state and compacts its log; zero
// fields keep raft.DefaultConfig's.
type Snapshots struct {
	Threshold uint64        // log entries since the last snapshot that call for a new one
	Interval  time.Duration // how often that is checked
	Trailing  uint64        // log entries kept after a snapshot, for slow followers
	Retain    int           // snapshots kept on disk (2)
}

// Config configures a Node. Zero fields take their defaults; ID and either
// Bind or Transport are required.
type Config struct {
	// ID is this proxy's Raft server ID, stable across restarts.
	ID string
	// Bind is the TCP address Raft listens on (host:port; the host must be
	// one peers can reach, unless Advertise names one). Ignored when
	// Transport is set.
	Bind string
	// Advertise, if set, is the host peers reach this proxy's Raft at when
	// Bind is a wildcard (0.0.0.0:PORT), with the port bound.
	Advertise string
	// TLS secures every connection of the transport on Bind, accepted or
	// dialled: it must present this proxy's certificate and require and
	// verify the peer's (groupca's PeerConfig). Required with Bind.
	TLS *tls.Config
	// Transport replaces the TLS transport (tests use
	// raft.NewInmemTransport). The Node closes it, if it can be closed.
	Transport raft.Transport
	// Dir holds Raft's log and stable store (raft.db) and its snapshots
	// (snapshots/); the proxy passes a directory of its own data
	// directory. "" keeps everything in memory, for tests.
	Dir string
	// Voters is the initial Raft group, used only when Dir holds no Raft
	// state yet. Empty means this node alone, a single-voter group. With
	// several proxies every one is given the same list.
	Voters []Voter
	// NoBootstrap starts without a group: the node waits for a leader to
	// add it (AddVoter). Voters is then ignored.
	NoBootstrap bool
	// N and VNodes are the ring's replication factor and virtual nodes per
	// server that a leader commits if none are committed yet (DefaultN and
	// hashring.DefaultVNodes). Once committed they are the ring's, whatever
	// a later Config says.
	N, VNodes int
	// Seed, if not nil, is the ring a leader commits instead of an empty
	// one with N and VNodes, when none is committed yet (an import
	// command): the way a proxy keeps the ring an earlier membership
	// recorded. Once a ring is committed it is ignored.
	Seed *Seed
	// Forwarder passes a change from a follower to the leader. Nil means a
	// follower's Join and Remove fail with ErrNotLeader.
	Forwarder Forwarder
	// ApplyTimeout bounds a change whose context has no deadline
	// (DefaultApplyTimeout).
	ApplyTimeout time.Duration
	// Timeouts are Raft's timers. GroupTimeouts, if not zero, replace them
	// when the group has or is about to have several voters (NoBootstrap,
	// several Voters, or a stored configuration with several voters): a
	// lone voter may elect itself fast, while a group on a loaded machine
	// must not hold elections over a late heartbeat. The choice is made at
	// Open; a lone voter that is joined by others keeps its timers until
	// it is reopened.
	Timeouts      Timeouts
	GroupTimeouts Timeouts
	Snapshots     Snapshots
	// Self, if not nil, is this proxy's record in the replicated state
	// (its ID is set to ID): the Node commits it, and commits it again
	// whenever the committed one differs. SetSelf sets or replaces it.
	Self *ProxyInfo
	// Logger receives the Node's log and Raft's; nil means slog.Default().
	Logger *slog.Logger
}

// Seed is a ring to start the replicated state from (Config.Seed). Its
// members are active; zero N and VNodes take the Config's.
type Seed struct {
	Epoch     uint64 // at least 1
	N, VNodes int
	Members   []string
	Removed   []string
}

// state returns the seed as a state, checked as a snapshot is.
func (s Seed) state() (*state, error) {
	st := newState()
	st.epoch, st.n, st.vnodes = s.Epoch, s.N, s.VNodes
	for _, id := range s.Members {
		st.members[id] = Active
	}
	for _, id := range s.Removed {
		st.removed[id] = true
	}
	switch {
	case len(st.members) != len(s.Members) || len(st.removed) != len(s.Removed):
		return nil, fmt.Errorf("%w: seed lists a server twice", ErrConfig)
	case s.Epoch == 0:
		return nil, fmt.Errorf("%w: seed epoch 0, want at least 1", ErrConfig)
	}
	back, err := decodeState(encodeState(st))
	if err != nil {
		return nil, fmt.Errorf("%w: seed: %w", ErrConfig, err)
	}
	return back, nil
}

// withDefaults returns c with its zero fields set, or an error wrapping
// ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		return c, fmt.Errorf("%w: empty node ID", ErrConfig)
	}
	if c.Transport == nil {
		switch {
		case c.Bind == "":
			return c, fmt.Errorf("%w: neither a bind address nor a transport", ErrConfig)
		case c.TLS == nil:
			return c, fmt.Errorf("%w: raft on %s without TLS: peers must prove they belong to the group", ErrConfig, c.Bind)
		case c.TLS.ClientAuth != tls.RequireAndVerifyClientCert:
			return c, fmt.Errorf("%w: raft's TLS must require and verify peers' certificates", ErrConfig)
		case len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil:
			return c, fmt.Errorf("%w: raft's TLS has no certificate of this proxy", ErrConfig)
		}
	}
	if c.N == 0 {
		c.N = DefaultN
	}
	if c.VNodes == 0 {
		c.VNodes = hashring.DefaultVNodes
	}
	if c.N < 1 || c.N > protocol.MaxReplication {
		return c, fmt.Errorf("%w: N = %d, want 1 to %d", ErrConfig, c.N, protocol.MaxReplication)
	}
	if c.VNodes < 1 || c.VNodes > protocol.MaxVNodes {
		return c, fmt.Errorf("%w: vnodes = %d, want 1 to %d", ErrConfig, c.VNodes, protocol.MaxVNodes)
	}
	if c.Seed != nil {
		seed := *c.Seed
		if seed.N == 0 {
			seed.N = c.N
		}
		if seed.VNodes == 0 {
			seed.VNodes = c.VNodes
		}
		if _, err := seed.state(); err != nil {
			return c, err
		}
		c.Seed = &seed
	}
	if len(c.Voters) > 0 && !c.NoBootstrap {
		self := false
		for _, v := range c.Voters {
			if v.ID == "" || v.Addr == "" {
				return c, fmt.Errorf("%w: voter %q at %q: empty ID or address", ErrConfig, v.ID, v.Addr)
			}
			self = self || v.ID == c.ID
		}
		if !self {
			return c, fmt.Errorf("%w: voters do not include this node (%s)", ErrConfig, c.ID)
		}
	}
	if c.Self != nil {
		self := *c.Self
		self.ID = c.ID
		if err := self.Check(); err != nil {
			return c, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.Self = &self
	}
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = DefaultApplyTimeout
	}
	if c.Snapshots.Retain == 0 {
		c.Snapshots.Retain = defaultSnapshotRetain
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// raftConfig returns Raft's configuration for c with c.Timeouts.
func (c Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	rc.Logger = newHCLog(c.Logger, "raft")
	set := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	set(&rc.HeartbeatTimeout, c.Timeouts.Heartbeat)
	set(&rc.ElectionTimeout, c.Timeouts.Election)
	set(&rc.LeaderLeaseTimeout, c.Timeouts.LeaderLease)
	set(&rc.CommitTimeout, c.Timeouts.Commit)
	set(&rc.SnapshotInterval, c.Snapshots.Interval)
	if c.Snapshots.Threshold > 0 {
		rc.SnapshotThreshold = c.Snapshots.Threshold
	}
	if c.Snapshots.Trailing > 0 {
		rc.TrailingLogs = c.Snapshots.Trailing
	}
	return rc
}
