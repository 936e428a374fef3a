//go:build partition

package partition

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// waitDrained waits until no TCP socket in the client groups' namespaces,
// open or closed by its process and still sending, holds data its peer has
// not acknowledged (ss: Send-Q 0 for every socket), all at once, or until
// within passes. It returns the sockets it first found busy.
func waitDrained(ctx context.Context, groups []*group, within time.Duration) ([]string, error) {
	deadline := time.Now().Add(within)
	var first []string
	for {
		busy, err := inFlight(ctx, groups)
		if err != nil {
			return first, err
		}
		if len(busy) == 0 {
			return first, nil
		}
		if first == nil {
			first = busy
		}
		if time.Now().After(deadline) {
			return first, fmt.Errorf("the clients' sockets still hold unacknowledged data after %v: %s", within, strings.Join(busy, "; "))
		}
		select { // polling the kernel's sockets: nothing announces it
		case <-ctx.Done():
			return first, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// inFlight returns the sockets of the groups' namespaces with data not yet
// acknowledged, as ss shows them.
func inFlight(ctx context.Context, groups []*group) ([]string, error) {
	var busy []string
	for _, g := range groups {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", g.host.ns(), "ss", "-tnH").Output()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("ss in %s: %w", g.host.ns(), err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			// State Recv-Q Send-Q Local Peer
			f := strings.Fields(line)
			if len(f) >= 5 && f[0] != "LISTEN" && f[2] != "0" {
				busy = append(busy, fmt.Sprintf("%s: %s %s→%s, %s bytes unacknowledged", g.host.name, f[0], f[3], f[4], f[2]))
			}
		}
	}
	return busy, nil
}
