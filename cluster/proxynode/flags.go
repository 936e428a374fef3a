package proxynode

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"shoplist/cluster/proxy"
)

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

// samePortOn returns addr's port on listen's host, wildcard or not.
func samePortOn(listen, addr string) (string, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: want HOST:PORT", listen)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

// loopbackFrom is portFrom on a loopback host: --listen's if it is one,
// else 127.0.0.1. The admin API is for this machine unless a flag says
// otherwise, whatever interface clients are served on.
func loopbackFrom(listen string, offset int, what, flag string) (string, error) {
	addr, err := portFrom(listen, offset, what, flag)
	if err != nil {
		return "", err
	}
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// offIfZero maps a flag's 0 ("off") to the proxy.Config's negative value; a
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
func endpointsFrom(listen, pub, backend string) (proxy.Config, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return proxy.Config{}, fmt.Errorf("--listen %q: want HOST:PORT", listen)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65533 {
		return proxy.Config{}, fmt.Errorf("--listen %q: port must be 0 to 65533", listen)
	}
	at := func(p int) string {
		if port == 0 {
			return "tcp://" + net.JoinHostPort(host, "*")
		}
		return "tcp://" + net.JoinHostPort(host, strconv.Itoa(p))
	}
	cfg := proxy.Config{ClientEndpoint: at(port), PubEndpoint: pub, BackendEndpoint: backend}
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

// limitMemory sets the Go runtime's soft memory limit to half the proxy's
// memory budget, unless GOMEMLIMIT sets one: the collector then works
// harder as the Go heap, garbage included, nears it, rather than letting
// the heap double its live size first, and what the proxy counts outside
// the Go heap (ZeroMQ's queues) fits the other half
// (cluster/proxy/budget.go).
func limitMemory(budget int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(budget / 2)
	}
}
