package proxy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"shoplist/hashring"
	"shoplist/protocol"
)

// MembershipOptions are what Main passes to its MembershipOpener, from its
// flags.
type MembershipOptions struct {
	// Data is the proxy's data directory (--data); "" keeps the
	// membership in memory.
	Data string
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
	Logger    *slog.Logger
}

// OpenedMembership is a membership a MembershipOpener opened for Main.
type OpenedMembership struct {
	Membership Membership
	// N is the ring's committed replication factor, which the proxy
	// routes with (it may differ from MembershipOptions.N).
	N int
	// Addr, if not empty, is reported on the ready line as raft=Addr.
	Addr string
	// Admin, if not empty, is reported on the ready line as admin=Admin.
	Admin string
	// Attach, if not nil, is called with the started proxy before the
	// ready line (to serve it on the admin API and record its endpoints
	// in the group); an error stops Main.
	Attach func(*Proxy) error
	// Close, if not nil, releases the membership; Main calls it after
	// the proxy has closed.
	Close func() error
}

// MembershipOpener opens the membership Main runs the proxy with. It is a
// parameter because the consensus-backed membership (package membership)
// imports this package: package proxynode passes it in.
type MembershipOpener func(ctx context.Context, o MembershipOptions) (OpenedMembership, error)

// Main runs the proxy command with args (without the program name) until
// ctx is done, with the membership open returns. It prints "proxy ready:
// client=… pub=… backend=… [raft=…] [admin=…]" on stdout once its sockets
// are bound and the membership has the proxy, and logs to stderr. It
// returns the exit code: 0 after a clean stop, 1 when the proxy cannot
// run, 2 for bad usage. The status and remove subcommands are run by
// package proxynode, before Main.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, open MembershipOpener) int {
	raiseProcs()
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5555", "`HOST:PORT` of the client socket; the PUB and backend sockets take the next two ports (port 0: free ports for all three)")
	pubEP := fs.String("pub", "", "PUB `endpoint` (default: tcp://HOST:PORT+1)")
	backendEP := fs.String("backend", "", "server `endpoint` (default: tcp://HOST:PORT+2)")
	data := fs.String("data", "", "`directory` that keeps the ring membership across restarts (empty: memory only)")
	raftAddr := fs.String("raft", "", "`HOST:PORT` of the membership's Raft transport (default: HOST:PORT+3 of --listen; port 0: a free port)")
	adminAddr := fs.String("admin", "", "`HOST:PORT` of the admin HTTP API (status, removals, the group's own traffic; default: HOST:PORT+4 of --listen; port 0: a free port)")
	join := fs.String("join", "", "admin `ADDR[,ADDR...]` of running proxies whose Raft group this proxy joins (asked in turn until one adds it)")
	deadAfter := fs.Duration("dead-after", DefaultDeadAfter, "remove a server unreachable for this long (leader only; 0: never)")
	antiEntropy := fs.Duration("anti-entropy", DefaultAntiEntropyInterval, "interval of anti-entropy rounds, each comparing the replicas of one ring range (leader only; 0: off)")
	n := fs.Int("n", DefaultN, "replicas per list (N)")
	w := fs.Int("w", DefaultW, "acknowledgements a write needs (W)")
	r := fs.Int("r", DefaultR, "answers a read needs (R); R + W must exceed N")
	vnodes := fs.Int("vnodes", hashring.DefaultVNodes, "virtual nodes per server on the ring")
	heartbeat := fs.Duration("heartbeat", protocol.HeartbeatInterval, "liveness interval; a server silent for 3 is down")
	timeout := fs.Duration("timeout", DefaultTimeout, "deadline of each client request")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy [flags]")
		fmt.Fprintln(stderr, "       proxy status [--admin ADDR[,ADDR...]] [--json]")
		fmt.Fprintln(stderr, "       proxy remove SERVER_ID [--admin ADDR[,ADDR...]] [--force]")
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
	cfg, err := endpointsFrom(*listen, *pubEP, *backendEP)
	if err == nil && *raftAddr == "" {
		*raftAddr, err = portFrom(*listen, raftOffset, "Raft", "--raft")
	}
	if err == nil && *adminAddr == "" {
		*adminAddr, err = portFrom(*listen, adminOffset, "admin", "--admin")
	}
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	cfg.N, cfg.W, cfg.R, cfg.VNodes = *n, *w, *r, *vnodes
	cfg.Heartbeat, cfg.Timeout, cfg.Logger = *heartbeat, *timeout, log
	cfg.DeadAfter, cfg.AntiEntropyInterval = offIfZero(*deadAfter), offIfZero(*antiEntropy)
	if err := checkQuorum(cfg.N, cfg.W, cfg.R); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 2
	}
	m, err := open(ctx, MembershipOptions{Data: *data, Raft: *raftAddr, Admin: *adminAddr, Join: splitList(*join), N: *n, VNodes: *vnodes, Logger: log})
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
	if err := checkQuorum(cfg.N, cfg.W, cfg.R); err != nil {
		fmt.Fprintf(stderr, "proxy: the ring's committed N is %d: %v\n", cfg.N, errors.Join(err, closeMembership()))
		return 1
	}
	p, err := Start(ctx, cfg)
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

// Offsets from the --listen port of the ports derived from it.
const (
	raftOffset  = 3
	adminOffset = 4
)

// portFrom derives a default address from --listen: its host and
// PORT+offset, or port 0 when --listen asks for free ports. A wildcard host
// (all interfaces) becomes loopback, because the address is also the one
// advertised to peers: enough for proxies on one machine; proxies that
// reach each other over a network give the address (flag).
func portFrom(listen string, offset int, what, flag string) (string, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: want HOST:PORT", listen)
	}
	if ip := net.ParseIP(host); host == "" || host == "*" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	port, err := strconv.Atoi(portText)
	switch {
	case err != nil || port < 0 || port > 65535-offset:
		return "", fmt.Errorf("--listen %q: port must be 0 to %d (PORT+%d is the %s port; or give %s)", listen, 65535-offset, offset, what, flag)
	case port == 0:
		return net.JoinHostPort(host, "0"), nil
	}
	return net.JoinHostPort(host, strconv.Itoa(port+offset)), nil
}

// offIfZero maps a flag's 0 ("off") to the Config's negative value; a
// Config's 0 would mean the default.
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// endpointsFrom derives the three bind endpoints from --listen, --pub and
// --backend.
func endpointsFrom(listen, pub, backend string) (Config, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return Config{}, fmt.Errorf("--listen %q: want HOST:PORT", listen)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65533 {
		return Config{}, fmt.Errorf("--listen %q: port must be 0 to 65533", listen)
	}
	at := func(p int) string {
		if port == 0 {
			return "tcp://" + net.JoinHostPort(host, "*")
		}
		return "tcp://" + net.JoinHostPort(host, strconv.Itoa(p))
	}
	cfg := Config{ClientEndpoint: at(port), PubEndpoint: pub, BackendEndpoint: backend}
	if cfg.PubEndpoint == "" {
		cfg.PubEndpoint = at(port + 1)
	}
	if cfg.BackendEndpoint == "" {
		cfg.BackendEndpoint = at(port + 2)
	}
	return cfg, nil
}

// newLogger returns a text logger at the named level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// minProcs is the fewest Ps (GOMAXPROCS) a role runs with. The socket loop
// parks in zmq_poll, a cgo call that keeps its P until the runtime's monitor
// takes it back, which can take up to 10 ms in a quiet process; on a 2-core
// machine that left one P for everything else and cost half the throughput
// (docs/BENCHMARKS.md). Spare Ps keep the other goroutines running.
const minProcs = 8

// raiseProcs raises GOMAXPROCS to minProcs unless the user set it.
func raiseProcs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minProcs {
		runtime.GOMAXPROCS(minProcs)
	}
}
