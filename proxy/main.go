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
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"shoplist/hashring"
	"shoplist/protocol"
)

// Main runs the proxy command with args (without the program name) until
// ctx is done. It prints "proxy ready: client=… pub=… backend=…" on stdout
// once its sockets are bound and logs to stderr. It returns the exit code:
// 0 after a clean stop, 1 when the proxy cannot run, 2 for bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	raiseProcs()
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5555", "`HOST:PORT` of the client socket; the PUB and backend sockets take the next two ports (port 0: free ports for all three)")
	pubEP := fs.String("pub", "", "PUB `endpoint` (default: tcp://HOST:PORT+1)")
	backendEP := fs.String("backend", "", "server `endpoint` (default: tcp://HOST:PORT+2)")
	data := fs.String("data", "", "`directory` that keeps the ring membership across restarts (empty: memory only)")
	n := fs.Int("n", DefaultN, "replicas per list (N)")
	w := fs.Int("w", DefaultW, "acknowledgements a write needs (W)")
	r := fs.Int("r", DefaultR, "answers a read needs (R); R + W must exceed N")
	vnodes := fs.Int("vnodes", hashring.DefaultVNodes, "virtual nodes per server on the ring")
	heartbeat := fs.Duration("heartbeat", protocol.HeartbeatInterval, "liveness interval; a server silent for 3 is down")
	timeout := fs.Duration("timeout", DefaultTimeout, "deadline of each client request")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy [flags]")
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
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	cfg.N, cfg.W, cfg.R, cfg.VNodes = *n, *w, *r, *vnodes
	cfg.Heartbeat, cfg.Timeout, cfg.Logger = *heartbeat, *timeout, log
	if err := checkQuorum(cfg.N, cfg.W, cfg.R); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 2
	}
	if *data != "" {
		reg, err := NewRegistry(filepath.Join(*data, "members.json"), *vnodes)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		cfg.Membership = reg
	}
	p, err := Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "proxy ready: %s\n", p.Endpoints())
	select {
	case <-ctx.Done():
	case <-p.Done():
	}
	if err := p.Close(); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	return 0
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
