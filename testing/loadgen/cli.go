package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// ClusterSpec is the cluster bench starts when --proxy is not given.
type ClusterSpec struct {
	Dir     string // its data directory
	Servers int    // storage servers, beside one proxy
	// InsecureBackend runs the proxy's backend without CURVE
	// (--insecure-backend), to measure what CURVE costs.
	InsecureBackend bool
	// InsecureClients runs the proxy's client socket and PUB without
	// CURVE (--insecure-clients), likewise.
	InsecureClients bool
	// Proxies is the number of proxies (--proxies), one Raft group.
	Proxies int
	// Preloading (--stored) creates many lists as one client: the proxies
	// then run without the per-client cap on new lists.
	Preloading bool
	Logs       io.Writer // receives the children's log lines; nil discards them
}

// Launcher starts the cluster spec describes, listening on free loopback
// ports, and returns the proxy's client endpoint and a function that stops
// the cluster and waits for it.
type Launcher func(ctx context.Context, spec ClusterSpec) (endpoint string, stop func() error, err error)

const usage = `usage: bench [flags]

Load benchmark of a shoplist cluster. Without --proxy it starts a cluster of
one proxy and --servers storage servers itself (free loopback ports, data in
a temporary directory unless --data), and stops it at the end.

Workload: --clients simulated clients, each with its own replica (clock) and
DEALER socket, one request at a time. Clients come in households of --group;
of the --lists load lists (each --items items), a fraction --shared is shared
by a household and the rest are private to one client; each operation picks
one of the client's lists at random. A push (fraction --mix) adds one wanted
to a random item or buys one, and sends that one-item delta; a pull reads the
list and merges it. --subscribers SUB sockets time each push to its live
update. Before the load, --stored makes the cluster hold that many lists in
total (small preloaded ones), so runs at 1,000 and 100,000 stored lists can be
compared; --raw first measures the plain ZeroMQ ceiling (DEALER -> ROUTER ->
3 echo workers, reply after 2) with the same clients and timing. The
cluster's backend is CURVE-encrypted, as deployed; --insecure-backend starts
it without CURVE, to measure what CURVE costs.

At the end every list is read back by Pull (a quorum read) and checked
against every acknowledged edit; a lost or invented edit makes bench say so
and exit 1.

flags:
`

// Main runs the bench command with args (without the program name); launch
// starts a cluster when --proxy is not given. It returns the exit code: 0
// when the run verified, 1 on a failure or a lost write, 2 on bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, launch Launcher) int {
	cfg, opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	cfg.Log = stderr
	if opts.procs > 0 {
		runtime.GOMAXPROCS(opts.procs)
	}
	if cfg.Proxy == "" {
		stop, err := startCluster(ctx, &cfg, opts, launch, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		defer stop()
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if opts.json {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if !res.OK() {
		fmt.Fprintf(stderr, "bench: %v\n", res.Verdict)
		for _, line := range res.Verdict.Named(namedFailures) {
			fmt.Fprintf(stderr, "bench:   %s\n", line)
		}
		return 1
	}
	return 0
}

// namedFailures is how many of a failed verification's lost or invented
// parts bench names, each by list, item and replica.
const namedFailures = 20

// options are the flags that are not part of a Config.
type options struct {
	json, verbose   bool
	insecure        bool
	insecureClients bool
	proxies         int
	servers         int
	data            string
	procs           int
}

// parseFlags turns the command line into a Config and the options that
// are not part of one; defaults that depend on other flags are filled in.
func parseFlags(args []string, stderr io.Writer) (Config, options, error) {
	var cfg Config
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Proxy, "proxy", "", "`endpoints` of running proxies' client sockets, comma-separated (tcp://HOST:PORT#KEY, as `service status --endpoints` prints them; clients and subscribers are spread over them); empty: start a cluster")
	fs.IntVar(&o.proxies, "proxies", 1, "proxies of the cluster bench starts, one Raft group (not with --proxy); clients and subscribers are spread over them")
	fs.IntVar(&cfg.Clients, "clients", 64, "simulated clients `M`, each with one request outstanding")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured load `time`")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured load `time` before the measurement (its writes are verified too)")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "per-request `deadline`; a request without a reply by then counts as a Timeout error")
	fs.IntVar(&cfg.Items, "items", 30, "items `K` per load list")
	fs.IntVar(&cfg.Lists, "lists", 0, "load lists `L` (default: one private list per client plus one shared list per household)")
	fs.Float64Var(&cfg.Shared, "shared", 0.2, "`fraction` of the load lists shared by a household, rounded (with the defaults: one list per household)")
	fs.IntVar(&cfg.Group, "group", 4, "clients per household `G`")
	fs.Float64Var(&cfg.Mix, "mix", 0.5, "`fraction` of operations that are pushes; the rest are pulls")
	fs.IntVar(&cfg.Stored, "stored", 0, "make the cluster hold `S` lists before the load, counting the load lists: the rest are preloaded 3-item lists (lists of earlier runs do not count); the cluster bench starts then has no cap on new lists per client")
	fs.IntVar(&cfg.Subscribers, "subscribers", 1, "live-update subscribers `n`, the load lists split between them (0: no live figures)")
	fs.BoolVar(&cfg.FullPulls, "full-pulls", false, "send every Pull without the hash of the client's state, so each is answered with the whole list as before conditional pulls, to measure what Unchanged answers save (default: pulls name the state held and an unchanged list is answered Unchanged, with no body)")
	fs.BoolVar(&cfg.Raw, "raw", false, "first measure the plain ZeroMQ ceiling and report the cluster's throughput as a ratio of it")
	fs.BoolVar(&o.json, "json", false, "print exactly one JSON object on stdout")
	fs.IntVar(&o.servers, "servers", 5, "storage servers of the cluster bench starts (not with --proxy)")
	fs.StringVar(&o.data, "data", "", "data `dir` of the cluster bench starts, kept afterwards (default: a temporary directory, removed)")
	fs.IntVar(&o.procs, "gomaxprocs", 8, "GOMAXPROCS of the bench process itself, `n` (0: Go's default, the core count): its clients block in libzmq calls, and with as many Ps as cores a runnable goroutine can wait milliseconds for the runtime to take a P back from a blocked call, which is the load generator's latency, not the cluster's")
	fs.BoolVar(&o.verbose, "v", false, "copy the started cluster's logs to stderr")
	fs.BoolVar(&o.insecure, "insecure-backend", false, "start the cluster with the proxy's backend without CURVE, to measure what CURVE costs (benchmarks only; not with --proxy)")
	fs.BoolVar(&o.insecureClients, "insecure-clients", false, "start the cluster with the proxy's client socket and PUB without CURVE, to measure what CURVE costs (benchmarks only; not with --proxy)")
	if err := fs.Parse(args); err != nil {
		return cfg, o, err
	}
	if fs.NArg() > 0 {
		return cfg, o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	households := (cfg.Clients + max(cfg.Group, 1) - 1) / max(cfg.Group, 1)
	if cfg.Lists == 0 {
		cfg.Lists = cfg.Clients + households
	}
	if o.servers < 1 {
		return cfg, o, fmt.Errorf("%w: --servers must be at least 1", ErrConfig)
	}
	if o.proxies != 1 && o.proxies != 3 {
		return cfg, o, fmt.Errorf("%w: --proxies must be 1 or 3", ErrConfig)
	}
	if (o.insecure || o.insecureClients) && cfg.Proxy != "" {
		return cfg, o, fmt.Errorf("%w: --insecure-backend and --insecure-clients are for the cluster bench starts, not one given with --proxy", ErrConfig)
	}
	return cfg, o, cfg.check()
}

// startCluster launches a cluster for the run and sets cfg.Proxy; the
// returned function stops it and removes a temporary data directory.
func startCluster(ctx context.Context, cfg *Config, o options, launch Launcher, stderr io.Writer) (func(), error) {
	dir, temp := o.data, o.data == ""
	if temp {
		d, err := os.MkdirTemp("", "shoplist-bench-")
		if err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		dir = d
	}
	var logs io.Writer
	if o.verbose {
		logs = stderr
	}
	mode := func(insecure bool) string {
		if insecure {
			return "plain, without CURVE"
		}
		return "CURVE"
	}
	fmt.Fprintf(stderr, "cluster: starting %d proxies and %d servers in %s (clients: %s; backend: %s)\n", o.proxies, o.servers, dir, mode(o.insecureClients), mode(o.insecure))
	endpoint, stop, err := launch(ctx, ClusterSpec{Dir: dir, Servers: o.servers, InsecureBackend: o.insecure, InsecureClients: o.insecureClients, Proxies: o.proxies,
		Preloading: cfg.Stored > 0, Logs: logs})
	if err != nil {
		if temp {
			os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("launch cluster: %w", err)
	}
	cfg.Proxy = endpoint
	fmt.Fprintf(stderr, "cluster: ready, clients connect to %s\n", endpoint)
	return func() {
		if err := stop(); err != nil {
			fmt.Fprintf(stderr, "bench: stop cluster: %v\n", err)
		}
		if temp {
			os.RemoveAll(dir)
		}
	}, nil
}
