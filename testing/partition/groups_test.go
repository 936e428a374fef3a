//go:build partition

package partition

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"shoplist/testing/ledger"
)

// group is a client group: this test binary run again as a driver in the
// group's namespace, homed at one proxy.
type group struct {
	index  int
	host   host
	home   int // the proxy it prefers
	dir    string
	proc   *proc
	stdin  io.WriteCloser
	lists  []uuid.UUID // every list its writers write to
	shared []uuid.UUID
}

// startGroup starts a client group with cfg in namespace h and waits until
// it writes.
func startGroup(ctx context.Context, sink logSink, h host, home int, cfg driverConfig) (*group, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	p, stdin, err := startWithStdin(h.ns(), "clients-"+h.name, sink, []string{driverEnv + "=" + string(raw)}, exe)
	if err != nil {
		return nil, err
	}
	g := &group{index: cfg.Group, host: h, home: home, dir: cfg.Dir, proc: p, stdin: stdin}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	line, err := p.waitLine(rctx, "ready ", "error: ")
	if err != nil {
		return g, err
	}
	if strings.HasPrefix(line, "error: ") {
		return g, fmt.Errorf("client group %d: %s", cfg.Group, line)
	}
	for _, f := range strings.Fields(strings.TrimPrefix(line, "ready ")) {
		k, v, _ := strings.Cut(f, "=")
		ids, err := parseIDs(v)
		if err != nil {
			return g, fmt.Errorf("client group %d: %q: %w", cfg.Group, line, err)
		}
		switch k {
		case "lists":
			g.lists = ids
		case "shared":
			g.shared = ids
		}
	}
	return g, nil
}

// command sends cmd and waits, within wait, for the group to answer with
// reply.
func (g *group) command(ctx context.Context, cmd, reply string, wait time.Duration) error {
	if _, err := io.WriteString(g.stdin, cmd+"\n"); err != nil {
		return fmt.Errorf("client group %d: %w", g.index, err)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	line, err := g.proc.waitLine(ctx, reply, "error: ")
	if err != nil {
		return fmt.Errorf("client group %d: %w", g.index, err)
	}
	if strings.HasPrefix(line, "error: ") {
		return fmt.Errorf("client group %d: %s", g.index, line)
	}
	return nil
}

// results reads what the group wrote when it stopped: its ledger and its
// figures.
func (g *group) results() (*ledger.Ledger, groupStats, error) {
	var gs groupStats
	raw, err := os.ReadFile(filepath.Join(g.dir, ledgerFile))
	if err != nil {
		return nil, gs, err
	}
	l := ledger.New()
	if err := l.UnmarshalBinary(raw); err != nil {
		return nil, gs, err
	}
	raw, err = os.ReadFile(filepath.Join(g.dir, statsFile))
	if err != nil {
		return nil, gs, err
	}
	return l, gs, json.Unmarshal(raw, &gs)
}

// checked reads what the group read back after convergence.
func (g *group) checked() (groupCheck, error) {
	var gc groupCheck
	raw, err := os.ReadFile(filepath.Join(g.dir, checkFile))
	if err != nil {
		return gc, err
	}
	return gc, json.Unmarshal(raw, &gc)
}

// close ends the group (its stdin closed, it exits) and returns its exit
// error; a group that does not exit within grace is killed.
func (g *group) close(grace time.Duration) error {
	g.proc.mu.Lock()
	g.proc.stopping = true
	g.proc.mu.Unlock()
	g.stdin.Close()
	select {
	case <-g.proc.done:
	case <-time.After(grace):
		return g.proc.stop(time.Second)
	}
	g.proc.mu.Lock()
	defer g.proc.mu.Unlock()
	if g.proc.exitErr != nil {
		return fmt.Errorf("client group %d: %w", g.index, g.proc.exitErr)
	}
	return nil
}
