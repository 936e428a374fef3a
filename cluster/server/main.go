package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"shoplist/internal/bytesize"
	"shoplist/internal/profiling"
	"shoplist/internal/runtimecfg"
	"shoplist/protocol"
)

// usage is the one-line synopsis printed with usage errors.
const usage = "usage: server --data DIR --proxy tcp://HOST:PORT#PROXY_KEY[,more] [--id ID] [--max-skew 5m] [--heartbeat 1s] [--workers 64] [--memory-budget 256MiB] [--cache 64MiB] [--log-level info]"

// Main runs the server role with command-line args (without the program
// name) until ctx is done. It prints `server ready: id=ID proxy=ENDPOINT
// epoch=N` on stdout each time a proxy welcomes the server, logs to stderr,
// and returns the exit code: 0 after a clean shutdown, 1 on a failure
// (with one line on stderr saying why), 2 on a usage error. With "repair"
// first, it runs `server repair` on a stopped server's store instead (see
// repairMain).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "repair" {
		return repairMain(args[1:], stdout, stderr)
	}
	defer runtimecfg.Prepare(ctx)()
	cfg, level, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "server: %v\n%s\n", err, usage)
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	stopProfile, err := profiling.Start("server")
	if err != nil {
		fmt.Fprintf(stderr, "server: %v\n", err)
		return 1
	}
	defer func() {
		if err := stopProfile(); err != nil {
			cfg.Logger.Warn("profile not written", "err", err)
		}
	}()
	lines := make(chan string, 256)
	cfg.onWelcome = func(id, endpoint string, epoch uint64) {
		select {
		case lines <- fmt.Sprintf("server ready: id=%s proxy=%s epoch=%d\n", id, endpoint, epoch):
		default: // nobody reads stdout: the loop must not block on it
		}
	}
	defer limitMemory(cfg)()
	s, err := Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "server: %v\n", strings.TrimPrefix(err.Error(), "server: "))
		return 1
	}
	s.logMemory("memory after opening the store")
	report := make(chan os.Signal, 1)
	signal.Notify(report, syscall.SIGUSR1)
	defer signal.Stop(report)
	return serveUntilDone(ctx, s, lines, report, stdout, stderr)
}

// serveUntilDone prints the ready lines, and logs a memory report at each
// signal on report, until ctx is done or the server fails, then closes it.
func serveUntilDone(ctx context.Context, s *Server, lines <-chan string, report <-chan os.Signal, stdout, stderr io.Writer) int {
	done, loopErr := s.failed()
	code := 0
	for running := true; running; {
		select {
		case line := <-lines:
			io.WriteString(stdout, line)
		case <-report:
			s.logMemory("memory")
		case <-ctx.Done():
			running = false
		case <-done:
			if err := loopErr(); err != nil {
				fmt.Fprintf(stderr, "server: %v\n", strings.TrimPrefix(err.Error(), "server: "))
				code = 1
			}
			running = false
		}
	}
	if err := s.Close(); err != nil {
		fmt.Fprintf(stderr, "server: %v\n", strings.TrimPrefix(err.Error(), "server: "))
		return 1
	}
	return code
}

// parseFlags turns the command line into a Config and a log level.
func parseFlags(args []string, stderr io.Writer) (Config, slog.Level, error) {
	var cfg Config
	var proxies, level string
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.Usage = func() {} // errors are reported once, by Main
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Dir, "data", "", "data `directory` of this server: its store and its server ID (required)")
	fs.StringVar(&proxies, "proxy", protocol.DefaultBackendEndpoint, "proxy backend `endpoints`, comma-separated, each with the proxy's key: tcp://HOST:PORT#KEY (as the proxy's ready line says backend=), or @FILE holding them (one per line or comma-separated); the server connects to each")
	fs.BoolVar(&cfg.InsecureBackend, "insecure-backend", false, "connect to proxies whose backend runs without CURVE (benchmarks only; endpoints without #KEY)")
	fs.StringVar(&cfg.ID, "id", "", "server `ID` to use if the data directory has none yet (default: generated)")
	fs.DurationVar(&cfg.MaxSkew, "max-skew", DefaultMaxSkew, "refuse lists stamped more than this far ahead of the clock")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", protocol.HeartbeatInterval, "heartbeat interval")
	fs.IntVar(&cfg.Workers, "workers", DefaultWorkers, "goroutines serving stores and fetches")
	fs.BoolVar(&cfg.Batch, "batch", true, "send each proxy the answers of one turn of the loop as one message (every proxy must be of a version that reads them)")
	cfg.MemoryBudget = DefaultMemoryBudget
	fs.Var(bytesize.Value{P: &cfg.MemoryBudget}, "memory-budget", "`bytes` of requests and replies the server holds at once (KiB, MiB, GiB); past it requests are refused with Unavailable")
	cfg.Cache = DefaultCache
	fs.Var(bytesize.Value{P: &cfg.Cache}, "cache", "`bytes` of the store's caches (KiB, MiB, GiB): a quarter for the encodings of lists in use, the rest for the storage engine's blocks; the Go runtime's soft memory limit is derived from it and --memory-budget")
	fs.DurationVar(&cfg.TombstoneHorizon, "tombstone-horizon", DefaultTombstoneHorizon, "how long removes are remembered before lists forget them; every client must sync within it")
	fs.StringVar(&level, "log-level", "info", "log `level`: debug, info, warn or error")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n  the operator's remedies for corrupt lists, on a stopped server's store (server repair --help)\n", repairUsage)
		return cfg, 0, err
	}
	if err != nil {
		return cfg, 0, err
	}
	var lv slog.Level
	switch {
	case fs.NArg() > 0:
		return cfg, 0, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.Dir == "":
		return cfg, 0, errors.New("--data is required")
	case cfg.MaxSkew <= 0 || cfg.Heartbeat <= 0 || cfg.Workers <= 0:
		return cfg, 0, errors.New("--max-skew, --heartbeat and --workers must be positive")
	case cfg.MemoryBudget < MinMemoryBudget:
		return cfg, 0, fmt.Errorf("--memory-budget %s is under the least a server needs, %s", bytesize.Format(cfg.MemoryBudget), bytesize.Human(MinMemoryBudget))
	case cfg.Cache < MinCache:
		return cfg, 0, fmt.Errorf("--cache %s is under the least a server needs, %s", bytesize.Format(cfg.Cache), bytesize.Human(MinCache))
	case lv.UnmarshalText([]byte(level)) != nil:
		return cfg, 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	if cfg.ID != "" {
		if err := protocol.CheckServerID(cfg.ID); err != nil {
			return cfg, 0, fmt.Errorf("--id: %w", err)
		}
	}
	if file, ok := strings.CutPrefix(proxies, "@"); ok {
		// Keys hold shell and systemd characters: a file spares the quoting.
		raw, err := os.ReadFile(file)
		if err != nil {
			return cfg, 0, fmt.Errorf("--proxy: %w", err)
		}
		proxies = strings.Join(strings.Fields(strings.ReplaceAll(string(raw), ",", " ")), ",")
	}
	cfg.Proxies = strings.Split(proxies, ",")
	if _, err := parseProxies(cfg.Proxies, cfg.InsecureBackend); err != nil {
		return cfg, 0, fmt.Errorf("--proxy: %w", err)
	}
	return cfg, lv, nil
}
