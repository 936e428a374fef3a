package proxynode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
)

// Names inside the proxy's data directory.
const (
	IDFile = "proxy-id"
	// RaftDir holds membership.Config.Dir.
	RaftDir = "raft"
	// ImportedSuffix is appended to membership.RegistryFile once its ring is
	// in Raft.
	ImportedSuffix = ".imported"
)

// ConfigureTimeout bounds Open's wait for a committed ring configuration
// (once this proxy is in its group).
const ConfigureTimeout = 30 * time.Second

// Joining and attaching.
const (
	// joinAttemptTimeout bounds one request to a --join address.
	joinAttemptTimeout = 10 * time.Second
	// joinRetry is the pause after every --join address has failed.
	joinRetry = 500 * time.Millisecond
	// selfTimeout bounds Attach's wait for this proxy's record to be
	// committed; past it the Node keeps trying in the background.
	selfTimeout = 10 * time.Second
)

// singleVoterTimeouts elect the lone voter in a fraction of a second
// instead of raft's default one to two seconds: with no peer there is no
// heartbeat to miss, and a proxy restart waits for the election.
var singleVoterTimeouts = membership.Timeouts{
	Heartbeat:   100 * time.Millisecond,
	Election:    100 * time.Millisecond,
	LeaderLease: 100 * time.Millisecond,
}

// groupTimeouts are for a group of several proxies: a failed leader is
// replaced within a second or two on one machine, and a heartbeat late
// by a few hundred milliseconds on a loaded machine does not start an
// election (the leader sends one every tenth of Heartbeat, and steps down
// after LeaderLease without a quorum's answer).
var groupTimeouts = membership.Timeouts{
	Heartbeat:   500 * time.Millisecond,
	Election:    500 * time.Millisecond,
	LeaderLease: 250 * time.Millisecond,
}

// Open opens the membership of Main: it opens a membership.Node
// in o.Data (persistent ID, Raft state in RaftDir) or, if o.Data is empty,
// in memory under a fresh ID, and serves the admin API on o.Admin (none if
// empty). Raft and the admin API run over TLS with this proxy's node
// credentials (nodeCredentials), which a proxy that starts its own group
// creates if it has none. Without o.Join the node bootstraps a
// single-voter group if it has no Raft state yet; with o.Join it asks
// those admin addresses, in turn and again until ctx ends or one refuses
// its credentials, to add it as a voter (unless its stored configuration
// already has it at its address). If o.Data holds a
// membership.RegistryFile, its ring seeds a Raft state that has none yet and the
// file is renamed with ImportedSuffix. Open returns once a ring
// configuration is committed, with the committed N; the returned Attach
// records the proxy's endpoints in the group.
func Open(ctx context.Context, o Options) (Opened, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Data != "" {
		if err := os.MkdirAll(o.Data, 0o755); err != nil {
			return Opened{}, fmt.Errorf("proxynode: %w", err)
		}
	}
	creds, err := nodeCredentials(o, o.Logger)
	if err != nil {
		return Opened{}, err
	}
	client := admin.NewClient(creds)
	fwd := admin.NewForwarder(client)
	cfg := membership.Config{
		Bind: o.Raft, Advertise: o.Advertise, TLS: creds.PeerConfig(), N: o.N, VNodes: o.VNodes, Logger: o.Logger, Forwarder: fwd,
		Timeouts: singleVoterTimeouts, GroupTimeouts: groupTimeouts, NoBootstrap: len(o.Join) > 0,
	}
	regPath := ""
	if o.Data == "" {
		id, err := newID()
		if err != nil {
			return Opened{}, err
		}
		cfg.ID = id
	} else {
		id, err := loadOrCreateID(filepath.Join(o.Data, IDFile))
		if err != nil {
			return Opened{}, err
		}
		cfg.ID, cfg.Dir = id, filepath.Join(o.Data, RaftDir)
		regPath = filepath.Join(o.Data, membership.RegistryFile)
		reg, ok, err := membership.ReadRegistryFile(regPath)
		if err != nil {
			return Opened{}, err
		}
		if !ok {
			regPath = ""
		} else {
			// N was never recorded by the Registry: the flag's. Epoch 0
			// (a file written by hand) still names a ring: 1.
			cfg.Seed = &membership.Seed{Epoch: max(reg.Epoch, 1), N: o.N, VNodes: reg.VNodes, Members: reg.Members, Removed: reg.Removed}
		}
	}
	var ln net.Listener
	if o.Admin != "" {
		var err error
		if ln, err = listenAdmin(o.Admin, o.Advertise); err != nil {
			return Opened{}, err
		}
	}
	node, err := membership.Open(cfg)
	if err != nil {
		if ln != nil {
			err = errors.Join(err, ln.Close())
		}
		return Opened{}, err
	}
	fwd.SetDirectory(node)
	var srv *admin.Server
	if ln != nil {
		if srv, err = admin.Serve(ln, node, creds, admin.Options{Client: client, Logger: o.Logger, Advertise: o.Advertise}); err != nil {
			return Opened{}, errors.Join(err, ln.Close(), node.Close())
		}
	}
	closeAll := func() error {
		var err error
		if srv != nil {
			err = srv.Close()
		}
		return errors.Join(err, node.Close())
	}
	fail := func(err error) (Opened, error) {
		return Opened{}, errors.Join(err, closeAll())
	}
	if len(o.Join) > 0 && !node.InGroup() {
		if err := joinGroup(ctx, client, o.Join, cfg.ID, node.Addr(), o.Logger); err != nil {
			return fail(err)
		}
	}
	timer := time.NewTimer(ConfigureTimeout)
	defer timer.Stop()
	select {
	case <-node.Configured():
	case <-ctx.Done():
		return fail(fmt.Errorf("proxynode: waiting for the ring configuration: %w", ctx.Err()))
	case <-timer.C:
		return fail(fmt.Errorf("proxynode: no ring configuration committed within %v (leader %q)", ConfigureTimeout, leaderOf(node)))
	}
	// The proxy starts from the latest committed ring, not from a step of
	// the log's replay.
	cctx, cancel := context.WithTimeout(ctx, ConfigureTimeout)
	err = node.CatchUp(cctx)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("proxynode: %w", err))
	}
	body := node.EpochBody()
	if regPath != "" {
		// The ring is committed (the file's, or one Raft already had):
		// the file is no longer read.
		if err := renameDurably(regPath, regPath+ImportedSuffix); err != nil {
			return fail(fmt.Errorf("proxynode: setting the imported ring file aside: %w", err))
		}
		o.Logger.Info("ring membership taken over by raft", "from", regPath, "epoch", body.Epoch, "members", len(body.Members))
	}
	m := Opened{Membership: node, N: int(body.N), Addr: node.Addr(), Close: closeAll}
	m.Attach = func(p *proxy.Proxy) error {
		self := membership.ProxyInfo{Raft: node.Addr(), Client: p.Endpoints().ClientEndpoint()}
		if srv != nil {
			srv.Attach(p)
			self.Admin = srv.Addr()
		}
		return recordSelf(ctx, node, self, o.Logger)
	}
	if srv != nil {
		m.Admin = srv.Addr()
	}
	return m, nil
}

// listenAdmin binds the admin API's address. The address is advertised to
// the other proxies as it is bound, so a wildcard host is refused unless
// advertise names the host they reach.
func listenAdmin(addr, advertise string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("proxynode: --admin %q: want HOST:PORT: %w", addr, err)
	}
	if ip := net.ParseIP(host); advertise == "" && (host == "" || ip != nil && ip.IsUnspecified()) {
		return nil, fmt.Errorf("proxynode: --admin %q: give a host the other proxies can reach, not a wildcard (or --advertise HOST)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxynode: admin API on %s: %w", addr, err)
	}
	return ln, nil
}

// joinGroup asks the proxies at addrs, in turn, to add this proxy (id at
// raftAddr) to their Raft group as a voter, until one has or ctx ends. A
// proxy that refuses this proxy's credentials, or whose credentials this
// proxy refuses, ends it at once: the two are not of one group, and asking
// again will not change that.
func joinGroup(ctx context.Context, c *admin.Client, addrs []string, id, raftAddr string, log *slog.Logger) error {
	for round := 0; ; round++ {
		var errs []error
		for _, a := range addrs {
			actx, cancel := context.WithTimeout(ctx, joinAttemptTimeout)
			err := c.AddProxy(actx, a, id, raftAddr)
			cancel()
			if err == nil {
				log.Info("joined the proxies' raft group", "proxy", id, "raft", raftAddr, "via", a)
				return nil
			}
			if admin.Refused(err) {
				return fmt.Errorf("proxynode: joining through %s: it and this proxy do not hold credentials of one group: %w", a, err)
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		if round%20 == 0 {
			log.Warn("joining the proxies' raft group; retrying", "via", addrs, "err", errors.Join(errs...))
		}
		t := time.NewTimer(joinRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("proxynode: joining the group through %v: %w: %w", addrs, ctx.Err(), errors.Join(errs...))
		case <-t.C:
		}
	}
}

// recordSelf sets the proxy's record in the group and waits, within
// selfTimeout, until it is committed: the ready line then means the other
// proxies can reach this one. Past the wait the Node keeps trying.
func recordSelf(ctx context.Context, node *membership.Node, self membership.ProxyInfo, log *slog.Logger) error {
	if err := node.SetSelf(self); err != nil {
		return fmt.Errorf("proxynode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, selfTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !node.SelfCommitted() {
		select {
		case <-ctx.Done():
			log.Warn("this proxy's addresses are not committed yet; still trying", "raft", self.Raft, "admin", self.Admin, "client", self.Client)
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// leaderOf names the node's leader, for an error.
func leaderOf(n *membership.Node) string {
	id, _ := n.Leader()
	return id
}
