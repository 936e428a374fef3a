//go:build partition

package partition

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/membership"
	"shoplist/cluster/server"
)

// Ports every proxy binds on its namespace's address, as the service lays
// them out: clients, PUB, backend, Raft, admin API.
const (
	clientPort = "5555"
	raftPort   = "5558"
	adminPort  = "5559"
)

// Timing of the cluster, as in the chaos test: a silent server is down
// after three heartbeats; the proxy gives up a request after its timeout;
// the leader compares one range every anti-entropy interval.
var (
	proxyFlags  = []string{"--heartbeat", "500ms", "--timeout", "3s", "--anti-entropy", "250ms"}
	serverFlags = []string{"--heartbeat", "500ms"}
)

// proxyNode is one proxy: its namespace, data directory and credentials,
// its process, and its endpoints with their keys as its ready line says.
type proxyNode struct {
	index   int
	host    host
	dir     string
	creds   string // its credentials directory
	proc    *proc
	client  string // tcp://HOST:PORT#KEY, as clients are given it
	backend string // tcp://HOST:PORT#KEY, as servers are given it
}

func (p *proxyNode) admin() string { return p.host.addr + ":" + adminPort }

// serverNode is one storage server: its ID, namespace, data directory and
// process (nil before it starts).
type serverNode struct {
	id   string
	host host
	dir  string
	proc *proc
}

// cluster is the proxies and servers of one schedule, each a process in
// its namespace.
type cluster struct {
	bin     string // directory of the proxy and server binaries
	dir     string // the schedule's data
	sink    logSink
	proxies []*proxyNode
	servers []*serverNode // every server started, the spare included once it is
}

// operator is the directory of the operator's credentials: the founder's.
func (c *cluster) operator() string { return filepath.Join(c.proxies[0].dir, "credentials") }

// proxyCLI runs `bin/proxy ARGS` in namespace ns and returns its stdout.
func (c *cluster) proxyCLI(ctx context.Context, ns string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, filepath.Join(c.bin, "proxy")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("proxy %s (in %s): %w: %s", strings.Join(args, " "), ns, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// startProxies starts proxy 0, which founds the group and its
// credentials, then each other proxy with credentials `proxy issue`
// writes from the founder's CA, joining through proxy 0's admin API.
func (c *cluster) startProxies(ctx context.Context, hosts []host) error {
	for i, h := range hosts {
		p := &proxyNode{index: i, host: h, dir: filepath.Join(c.dir, "proxy-"+h.name)}
		p.creds = filepath.Join(p.dir, "credentials")
		args := []string{"--data", p.dir,
			"--listen", h.addr + ":" + clientPort, "--raft", h.addr + ":" + raftPort, "--admin", p.admin()}
		if i > 0 {
			p.creds = filepath.Join(c.dir, "credentials-"+h.name)
			if out, err := exec.CommandContext(ctx, filepath.Join(c.bin, "proxy"), "issue",
				"--credentials", c.operator(), "--out", p.creds).CombinedOutput(); err != nil {
				return fmt.Errorf("proxy issue for %s: %w: %s", h.name, err, bytes.TrimSpace(out))
			}
			args = append(args, "--credentials", p.creds, "--join", c.proxies[0].admin())
		}
		proc, err := startIn(h.ns(), "proxy-"+h.name, c.sink, nil, filepath.Join(c.bin, "proxy"), append(args, proxyFlags...)...)
		if err != nil {
			return err
		}
		p.proc = proc
		c.proxies = append(c.proxies, p)
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		line, err := proc.waitLine(rctx, "proxy ready: ")
		cancel()
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(strings.TrimPrefix(line, "proxy ready: ")) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "client":
				p.client = v
			case "backend":
				p.backend = v
			}
		}
		if !strings.Contains(p.client, "#") || !strings.Contains(p.backend, "#") {
			return fmt.Errorf("proxy %s: no keyed endpoints in its ready line %q", h.name, line)
		}
	}
	return nil
}

// backends returns every proxy's backend with its key, as a server's
// --proxy takes them.
func (c *cluster) backends() string {
	var eps []string
	for _, p := range c.proxies {
		eps = append(eps, p.backend)
	}
	return strings.Join(eps, ",")
}

// clientEndpoints returns every proxy's client endpoint with its key,
// starting with proxy first's.
func (c *cluster) clientEndpoints(first int) []string {
	var eps []string
	for i := range c.proxies {
		eps = append(eps, c.proxies[(first+i)%len(c.proxies)].client)
	}
	return eps
}

// newServer makes server id's data directory and key pair, in namespace h.
func (c *cluster) newServer(id string, h host) (*serverNode, error) {
	s := &serverNode{id: id, host: h, dir: filepath.Join(c.dir, "server-"+id)}
	if _, err := server.LoadOrCreateKey(s.dir); err != nil {
		return nil, err
	}
	return s, nil
}

// admit admits s's key through proxy via's admin API, as an operator does
// with `proxy admit`, run in via's namespace.
func (c *cluster) admit(ctx context.Context, via *proxyNode, s *serverNode) error {
	_, err := c.proxyCLI(ctx, via.host.ns(), "admit", "--id", s.id, "--key", "@"+server.PublicKeyFile(s.dir),
		"--admin", via.admin(), "--credentials", c.operator())
	return err
}

// startServer starts s, connecting to every proxy's backend.
func (c *cluster) startServer(s *serverNode) error {
	args := append([]string{"--data", s.dir, "--id", s.id, "--proxy", c.backends()}, serverFlags...)
	p, err := startIn(s.host.ns(), "server-"+s.id, c.sink, nil, filepath.Join(c.bin, "server"), args...)
	if err != nil {
		return err
	}
	s.proc = p
	c.servers = append(c.servers, s)
	return nil
}

// waitWelcomed waits until s has been welcomed by every proxy of want
// (by backend endpoint, with or without the key): its ready lines say so.
func waitWelcomed(ctx context.Context, s *serverNode, want []*proxyNode) error {
	missing := map[string]bool{}
	for _, p := range want {
		ep, _, _ := strings.Cut(p.backend, "#")
		missing[ep] = true
	}
	for len(missing) > 0 {
		line, err := s.proc.waitLine(ctx, "server ready: ")
		if err != nil {
			return fmt.Errorf("%w (not yet welcomed by %v)", err, slices.Sorted(maps.Keys(missing)))
		}
		for _, f := range strings.Fields(line) {
			if ep, ok := strings.CutPrefix(f, "proxy="); ok {
				ep, _, _ = strings.Cut(ep, "#")
				delete(missing, ep)
			}
		}
	}
	return nil
}

// startServers admits and starts servers, then waits until every proxy
// has welcomed each.
func (c *cluster) startServers(ctx context.Context, servers []*serverNode) error {
	for _, s := range servers {
		if err := c.admit(ctx, c.proxies[0], s); err != nil {
			return err
		}
	}
	if err := c.waitAdmitted(ctx, servers); err != nil {
		return err
	}
	for _, s := range servers {
		if err := c.startServer(s); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, s := range servers {
		if err := waitWelcomed(wctx, s, c.proxies); err != nil {
			return err
		}
	}
	return nil
}

// waitAdmitted waits until every proxy lists every server of servers as
// admitted: a proxy refuses a handshake with a key it does not know yet.
func (c *cluster) waitAdmitted(ctx context.Context, servers []*serverNode) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		sts, err := c.Statuses(ctx)
		if err == nil && len(sts) == len(c.proxies) {
			all := true
			for _, st := range sts {
				for _, s := range servers {
					all = all && slices.ContainsFunc(st.Membership.Admitted, func(a membership.Admitted) bool { return a.ID == s.id })
				}
			}
			if all {
				return nil
			}
		}
		select { // polling: nothing announces an admission
		case <-ctx.Done():
			return fmt.Errorf("waiting for every proxy to admit the servers: %w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Status returns proxy i's status, as `proxy status --json` run in its
// namespace prints it.
func (c *cluster) Status(ctx context.Context, i int) (admin.Status, error) {
	p := c.proxies[i]
	out, err := c.proxyCLI(ctx, p.host.ns(), "status", "--json", "--admin", p.admin(), "--credentials", c.operator())
	if err != nil {
		return admin.Status{}, err
	}
	var st admin.Status
	if err := json.Unmarshal(out, &st); err != nil {
		return admin.Status{}, fmt.Errorf("proxy %s's status: %w", p.host.name, err)
	}
	return st, nil
}

// Statuses returns the status of every running proxy that answers, by
// index, and the errors of the others (converge.Source).
func (c *cluster) Statuses(ctx context.Context) (map[int]admin.Status, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[int]admin.Status{}
	var errs []error
	for i, p := range c.proxies {
		if p.proc.exited() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := c.Status(ctx, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[i] = st
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// remove asks proxy via to remove server id (`proxy remove`, which marks
// it leaving; it hands its lists over and the leader removes it then).
func (c *cluster) remove(ctx context.Context, via *proxyNode, id string) error {
	_, err := c.proxyCLI(ctx, via.host.ns(), "remove", id, "--admin", via.admin(), "--credentials", c.operator())
	return err
}

// crashed returns every process of the cluster that exited by itself.
func (c *cluster) crashed() []error {
	var out []error
	for _, p := range c.procs() {
		if err := p.crashed(); err != nil {
			out = append(out, err)
		}
	}
	return out
}

func (c *cluster) procs() []*proc {
	var out []*proc
	for _, s := range c.servers {
		out = append(out, s.proc)
	}
	for _, p := range c.proxies {
		if p.proc != nil {
			out = append(out, p.proc)
		}
	}
	return out
}

// stop stops every process, servers and proxies together, each with
// SIGTERM and then SIGKILL after a grace period; it returns the crashes
// and the processes that had to be killed.
func (c *cluster) stop() []error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, p := range c.procs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.stop(15 * time.Second); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}
