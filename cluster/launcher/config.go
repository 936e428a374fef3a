package launcher

import (
	"context"
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
	DefaultData         = "data" // the service's --data, relative to where it runs
	DefaultListen       = "127.0.0.1:5555"
	DefaultReadyTimeout = 20 * time.Second
	DefaultStopGrace    = 10 * time.Second
	DefaultProxies      = 1
)

// Port layout of proxy i (i from 0): it listens for clients on PORT+10*i of
// Config.Listen and takes the next four ports for its PUB socket (+1), its
// backend (+2), Raft (+3) and admin API (+4).
const (
	proxyPortStride = 10
	proxyPortSpan   = 4 // the last of a proxy's ports, counted from its first
	maxProxies      = 9
)

// Config describes a cluster to launch.
type Config struct {
	// Data is the data root (required): Data/proxy/ (proxy 0),
	// Data/proxy-<i>/ (proxy i ≥ 1) and Data/server-<id>/.
	Data string
	// Proxies is how many proxies to run at least (default 1): one Raft
	// group. Proxy 0 bootstraps it and the others join it; several proxies
	// found under Data (an earlier group) are all restarted. Use an odd
	// number (an even one is refused): 3 tolerate the loss of one, 2 would
	// tolerate none.
	Proxies int
	// Servers is how many storage servers to run at least (default 5).
	// Servers found under Data are all restarted, even if they are more.
	Servers int
	// Listen is proxy 0's client HOST:PORT (default 127.0.0.1:5555);
	// proxy i listens on PORT+10*i, and each proxy takes the next four
	// ports for its PUB, backend, Raft and admin sockets (+1 to +4). Port 0
	// makes every proxy bind free ports.
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
	// InsecureBackend runs the proxies' backend without CURVE and admits
	// nobody: any process may join the ring. For measuring what CURVE
	// costs (bench), never for a deployment.
	InsecureBackend bool
	// InsecureClients runs the proxies' client sockets and PUBs without
	// CURVE, likewise for measuring what it costs.
	InsecureClients bool
	// Admit, if set, admits a storage server's key in place of the admin
	// API (tests whose fake proxies serve none).
	Admit func(ctx context.Context, id, key string) error
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
	if cfg.Proxies == 0 {
		cfg.Proxies = DefaultProxies
	}
	if cfg.Proxies < 0 || cfg.Proxies > maxProxies || cfg.Proxies%2 == 0 {
		// An even group tolerates no more failures than one proxy fewer.
		return cfg, fmt.Errorf("%w: %d proxies (want an odd number up to %d: 1 or 3)", ErrConfig, cfg.Proxies, maxProxies)
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if err := checkListen(cfg.Listen, cfg.Proxies); err != nil {
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
// room for the ports of the proxies derived from it.
func checkListen(hostPort string, proxies int) error {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("%w: --listen %q: %w", ErrConfig, hostPort, err)
	}
	p, err := strconv.Atoi(port)
	top := 65535 - proxyPortStride*(max(proxies, 1)-1) - proxyPortSpan
	if err != nil || p < 0 || p > top {
		return fmt.Errorf("%w: --listen %q: port must be 0 to %d for %d proxies", ErrConfig, hostPort, top, max(proxies, 1))
	}
	if host == "" {
		return fmt.Errorf("%w: --listen %q: no host", ErrConfig, hostPort)
	}
	return nil
}
