package cluster

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultServers      = 5
	DefaultListen       = "127.0.0.1:5555"
	DefaultReadyTimeout = 20 * time.Second
	DefaultStopGrace    = 10 * time.Second
)

// Config describes a cluster to launch.
type Config struct {
	// Data is the data root (required): Data/proxy/ and Data/server-<id>/.
	Data string
	// Servers is how many storage servers to run at least (default 5).
	// Servers found under Data are all restarted, even if they are more.
	Servers int
	// Listen is the proxy's client HOST:PORT (default 127.0.0.1:5555); the
	// proxy derives its PUB, backend and Raft ports from it (PORT+1,
	// PORT+2, PORT+3), and port 0 makes it bind free ports for all four.
	Listen string
	// Exe is the binary re-executed in each role (default os.Executable()).
	// Its main must call RunChild first.
	Exe string
	// Stderr receives the children's stdout and stderr, each line prefixed
	// "[proxy] " or "[server-<id>] ", and the launcher's own notes; nil
	// discards them.
	Stderr io.Writer
	// ProxyArgs are extra flags for the proxy (after the launcher's own).
	ProxyArgs []string
	// ServerArgs are extra flags for every server (after the launcher's own).
	ServerArgs []string
	// ReadyTimeout bounds the wait for a child's ready line (default 20s).
	ReadyTimeout time.Duration
	// StopGrace is how long a child may take to exit after SIGTERM before it
	// gets SIGKILL (default 10s).
	StopGrace time.Duration
}

// withDefaults fills in the zero fields and checks the rest.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Data == "" {
		return cfg, fmt.Errorf("%w: no data directory", ErrConfig)
	}
	if cfg.Servers == 0 {
		cfg.Servers = DefaultServers
	}
	if cfg.Servers < 0 {
		return cfg, fmt.Errorf("%w: %d servers", ErrConfig, cfg.Servers)
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if err := checkListen(cfg.Listen); err != nil {
		return cfg, err
	}
	if cfg.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return cfg, fmt.Errorf("cluster: finding this binary to re-execute: %w", err)
		}
		cfg.Exe = exe
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	return cfg, nil
}

// checkListen reports whether hostPort is not a HOST:PORT whose PORT leaves
// room for the two derived ports.
func checkListen(hostPort string) error {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("%w: --listen %q: %w", ErrConfig, hostPort, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535-3 {
		return fmt.Errorf("%w: --listen %q: port must be 0 to 65532", ErrConfig, hostPort)
	}
	if host == "" {
		return fmt.Errorf("%w: --listen %q: no host", ErrConfig, hostPort)
	}
	return nil
}
