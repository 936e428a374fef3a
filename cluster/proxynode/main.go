package proxynode

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"shoplist/cluster/admin"
	"shoplist/cluster/placement"
	"shoplist/cluster/proxy"
	"shoplist/hashring"
	"shoplist/internal/bytesize"
	"shoplist/internal/profiling"
	"shoplist/internal/runtimecfg"
	"shoplist/protocol"
)

// Options are what Main opens the membership with, from its flags.
type Options struct {
	// Data is the proxy's data directory (--data); "" keeps the
	// membership in memory.
	Data string
	// Credentials is the directory of this proxy's credentials
	// (--credentials); "" means DATA/credentials (groupca.DirIn).
	Credentials string
	// Raft is the HOST:PORT the membership's consensus listens on
	// (--raft; port 0: a free port).
	Raft string
	// Admin is the HOST:PORT of the proxy's admin HTTP API (--admin; port
	// 0: a free port).
	Admin string
	// Join holds the admin addresses of running proxies of the group to
	// join (--join); empty: this proxy starts or restarts its own group.
	Join []string
	// N and VNodes are the replication factor and virtual nodes asked for
	// (--n, --vnodes); a ring already committed keeps its own.
	N, VNodes int
	// Advertise, if set, is the host other proxies, servers and clients
	// reach this proxy at (--advertise): its Raft and admin addresses and
	// its endpoints bound on a wildcard (0.0.0.0) are given to peers with
	// that host and the ports bound.
	Advertise string
	Logger    *slog.Logger
}

// Opened is a membership opened for Main.
type Opened struct {
	Membership placement.Membership
	// N is the ring's committed replication factor, which the proxy
	// routes with (it may differ from Options.N).
	N int
	// Addr, if not empty, is reported on the ready line as raft=Addr.
	Addr string
	// Admin, if not empty, is reported on the ready line as admin=Admin.
	Admin string
	// Attach, if not nil, is called with the started proxy before the
	// ready line (to serve it on the admin API and record its endpoints
	// in the group); an error stops Main.
	Attach func(*proxy.Proxy) error
	// Close, if not nil, releases the membership; Main calls it after
	// the proxy has closed.
	Close func() error
}

// opener opens the membership a proxy runs with: Open, or a test's.
type opener func(ctx context.Context, o Options) (Opened, error)

// Main runs the proxy command with args (without the program name) until
// ctx is done: `proxy status`, `proxy remove`, `proxy admit` and `proxy
// revoke` (see package admin), `proxy issue` (IssueMain), or the proxy
// itself with its membership decided by Raft (Open) and its CURVE key in
// DATA/curve. The proxy prints "proxy ready: client=… pub=… backend=…
// raft=… [admin=…]", each endpoint with the key its peers pin
// (ENDPOINT#KEY), on stdout once its sockets
// are bound and the membership has it, and logs to stderr. Main returns the exit code: 0 after a clean stop, 1 when the
// proxy cannot run, 2 for bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "status":
			return admin.StatusMain(ctx, args[1:], stdout, stderr)
		case "remove":
			return admin.RemoveMain(ctx, args[1:], stdout, stderr)
		case "admit":
			return admin.AdmitMain(ctx, args[1:], stdout, stderr)
		case "revoke":
			return admin.RevokeMain(ctx, args[1:], stdout, stderr)
		case "issue":
			return IssueMain(args[1:], stdout, stderr)
		}
	}
	return run(ctx, args, stdout, stderr, Open)
}

// run runs the proxy with the membership open returns.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, open opener) int {
	defer runtimecfg.Prepare(ctx)()
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5555", "`HOST:PORT` of the client socket; the PUB and backend sockets take the next two ports (port 0: free ports for all three)")
	pubEP := fs.String("pub", "", "PUB `endpoint` (default: tcp://HOST:PORT+1)")
	backendEP := fs.String("backend", "", "server `endpoint` (default: tcp://HOST:PORT+2)")
	data := fs.String("data", "", "`directory` that keeps the ring membership and the group's credentials across restarts (empty: memory only)")
	creds := fs.String("credentials", "", "`directory` of this proxy's credentials, written by `proxy issue` for a joining proxy (default: DATA/credentials; a proxy starting a group of its own creates them there)")
	raftAddr := fs.String("raft", "", "`HOST:PORT` of the membership's Raft transport (default: HOST:PORT+3 of --listen; port 0: a free port)")
	adminAddr := fs.String("admin", "", "`HOST:PORT` of the admin HTTPS API (status, removals, the group's own traffic; default: loopback, PORT+4 of --listen; port 0: a free port). Give one the other proxies can reach for a group across machines")
	join := fs.String("join", "", "admin `ADDR[,ADDR...]` of running proxies whose Raft group this proxy joins (asked in turn until one adds it)")
	deadAfter := fs.Duration("dead-after", proxy.DefaultDeadAfter, "remove a server unreachable for this long (leader only; 0: never)")
	antiEntropy := fs.Duration("anti-entropy", proxy.DefaultAntiEntropyInterval, "interval of anti-entropy rounds, each comparing the replicas of one ring range (leader only; 0: off)")
	n := fs.Int("n", proxy.DefaultN, "replicas per list (N)")
	w := fs.Int("w", proxy.DefaultW, "acknowledgements a write needs (W)")
	r := fs.Int("r", proxy.DefaultR, "answers a read needs (R); R + W must exceed N")
	vnodes := fs.Int("vnodes", hashring.DefaultVNodes, "virtual nodes per server on the ring")
	heartbeat := fs.Duration("heartbeat", protocol.HeartbeatInterval, "liveness interval; a server silent for 3 is down")
	timeout := fs.Duration("timeout", proxy.DefaultTimeout, "deadline of each client request")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	advertise := fs.String("advertise", "", "`HOST` other machines reach this proxy at: its endpoints, Raft and admin addresses bound on 0.0.0.0 are given to peers with this host (default: 127.0.0.1 for the endpoints; Raft and admin then need a host of their own)")
	insecure := fs.Bool("insecure-backend", false, "run the backend without CURVE: any process may join the ring under any ID (benchmarks only)")
	batch := fs.Bool("batch", true, "send each server the requests of one turn of the loop as one message (every server must be of a version that reads them)")
	maxSubs := fs.Int("max-subscriptions", proxy.DefaultMaxSubscriptions, "live-update topics one client key may subscribe to; beyond it its new lists get no live updates (their re-pull still syncs them)")
	insecureClients := fs.Bool("insecure-clients", false, "run the client socket and the PUB without CURVE: list IDs cross the network in clear (benchmarks only)")
	budget := int64(proxy.DefaultMemoryBudget)
	fs.Var(bytesize.Value{P: &budget}, "memory-budget", "`bytes` of memory the proxy may use (KiB, MiB, GiB): what it holds and queues for clients and servers stays within about half of it, per client and in all; past it requests are refused with Unavailable")
	newLists := fs.Int("new-lists-per-minute", proxy.DefaultNewListsPerMinute, "lists the cluster did not hold that one client may create a minute; past it such pushes are refused with NewListLimit (0: no cap)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy [flags]")
		fmt.Fprintln(stderr, "       proxy status [--admin ADDR[,ADDR...]] [--json]")
		fmt.Fprintln(stderr, "       proxy remove SERVER_ID [--admin ADDR[,ADDR...]] [--force]")
		fmt.Fprintln(stderr, "       proxy admit --id SERVER_ID --key KEY|@FILE [--admin ADDR[,ADDR...]]")
		fmt.Fprintln(stderr, "       proxy revoke --id SERVER_ID [--admin ADDR[,ADDR...]]")
		fmt.Fprintln(stderr, "       proxy issue --out DIR [--data DATA | --credentials DIR] [--operator]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "proxy: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	stopProfile, err := profiling.Start("proxy")
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 1
	}
	defer func() {
		if err := stopProfile(); err != nil {
			log.Warn("profile not written", "err", err)
		}
	}()
	cfg, err := endpointsFrom(*listen, *pubEP, *backendEP)
	if err == nil && *raftAddr == "" {
		*raftAddr, err = portFrom(*listen, raftOffset, "Raft", "--raft")
		if err == nil && *advertise != "" {
			// On the interface --listen binds, a wildcard included: the
			// transport advertises --advertise.
			*raftAddr, err = samePortOn(*listen, *raftAddr)
		}
	}
	if err == nil && *adminAddr == "" {
		*adminAddr, err = loopbackFrom(*listen, adminOffset, "admin", "--admin")
	}
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	if budget < proxy.MinMemoryBudget || *newLists < 0 {
		fmt.Fprintf(stderr, "proxy: --memory-budget must be at least %s and --new-lists-per-minute at least 0\n", bytesize.Format(proxy.MinMemoryBudget))
		return 2
	}
	cfg.MemoryBudget, cfg.NewListsPerMinute = budget, *newLists
	if *newLists == 0 {
		cfg.NewListsPerMinute = -1 // no cap; a Config's 0 would mean the default
	}
	limitMemory(budget)
	cfg.N, cfg.W, cfg.R = *n, *w, *r
	cfg.Heartbeat, cfg.Timeout, cfg.Logger = *heartbeat, *timeout, log
	cfg.DeadAfter, cfg.AntiEntropyInterval = offIfZero(*deadAfter), offIfZero(*antiEntropy)
	if err := proxy.CheckQuorum(cfg.N, cfg.W, cfg.R); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 2
	}
	cfg.InsecureBackend, cfg.InsecureClients, cfg.MaxSubscriptions = *insecure, *insecureClients, *maxSubs
	cfg.Batch = *batch
	cfg.Advertise = *advertise
	if !*insecure || !*insecureClients {
		key, err := backendKey(*data, log)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		cfg.CurveSecretKey = key.Secret
	}
	m, err := open(ctx, Options{Data: *data, Credentials: *creds, Raft: *raftAddr, Admin: *adminAddr, Join: splitList(*join), N: *n, VNodes: *vnodes, Advertise: *advertise, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	closeMembership := func() error {
		if m.Close == nil {
			return nil
		}
		return m.Close()
	}
	cfg.Membership, cfg.N = m.Membership, m.N
	if err := proxy.CheckQuorum(cfg.N, cfg.W, cfg.R); err != nil {
		fmt.Fprintf(stderr, "proxy: the ring's committed N is %d: %v\n", cfg.N, errors.Join(err, closeMembership()))
		return 1
	}
	p, err := proxy.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", errors.Join(err, closeMembership()))
		return 1
	}
	if m.Attach != nil {
		if err := m.Attach(p); err != nil {
			fmt.Fprintf(stderr, "%v\n", errors.Join(err, p.Close(), closeMembership()))
			return 1
		}
	}
	ready := p.Endpoints().String()
	if m.Addr != "" {
		ready += " raft=" + m.Addr
	}
	if m.Admin != "" {
		ready += " admin=" + m.Admin
	}
	fmt.Fprintf(stdout, "proxy ready: %s\n", ready)
	select {
	case <-ctx.Done():
	case <-p.Done():
	}
	// The proxy first (its Join and Remove goroutines are done then), the
	// membership after.
	if err := errors.Join(p.Close(), closeMembership()); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	return 0
}
