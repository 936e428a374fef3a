package launcher

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"shoplist/cluster/proxy"
)

// proxyProc is one proxy of the group: its index, data directory and
// addresses, and its current process (nil before it is first started).
type proxyProc struct {
	index   int
	name    string // "proxy" for proxy 0, else "proxy-<i>"
	dir     string
	planned proxyAddrs // the fixed ports it is told to bind; zero with port 0
	addrs   proxyAddrs // from its first ready line; kept across restarts
	ch      *child
}

func newProxyProc(i int, data string) *proxyProc {
	return &proxyProc{index: i, name: ProxyName(i), dir: proxyDir(data, i)}
}

// proxyName names proxy 0 in logs and errors; proxy i is "proxy-<i>".
const proxyName = "proxy"

// ProxyName returns the name of proxy i in the cluster's logs and errors
// ([ChildError.Child], [ProxyInfo.Name]) and for [Cluster.Signal] and
// [Cluster.Restart]: "proxy" for proxy 0, "proxy-<i>" for the others.
func ProxyName(i int) string {
	if i == 0 {
		return proxyName
	}
	return proxyDirPrefix + strconv.Itoa(i)
}

// plannedAddrs returns the addresses of proxy i when proxy 0 listens for
// clients on host:port (see the port layout in config.go). Raft is reached
// at a loopback address when host is a wildcard, as the proxy itself does;
// the admin API always is, since every proxy and the launcher run on this
// machine.
func plannedAddrs(host string, port, i int) proxyAddrs {
	base := port + proxyPortStride*i
	at := func(h string, off int) string { return net.JoinHostPort(h, strconv.Itoa(base+off)) }
	local, loopback := host, host
	if ip := net.ParseIP(host); host == "*" || (ip != nil && ip.IsUnspecified()) {
		local = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		loopback = "127.0.0.1"
	}
	return proxyAddrs{
		eps: proxy.Endpoints{
			Client:  "tcp://" + at(host, 0),
			Pub:     "tcp://" + at(host, 1),
			Backend: "tcp://" + at(host, 2),
		},
		raft:  at(local, 3),
		admin: at(loopback, 4),
	}
}

// firstArgs returns the command line of p's first start in this Cluster:
// its planned ports (or free ones with port 0), its data directory, the
// admin addresses of the proxies it joins, then cfg.ProxyArgs.
func (c *Cluster) firstArgs(p *proxyProc, host string, port int, join []string) []string {
	var args []string
	if port == 0 {
		args = []string{"--listen", net.JoinHostPort(host, "0")}
	} else {
		args = []string{"--listen", strings.TrimPrefix(p.planned.eps.Client, "tcp://"),
			"--raft", p.planned.raft, "--admin", p.planned.admin}
	}
	args = append(args, "--data", p.dir)
	if len(join) > 0 {
		args = append(args, "--join", strings.Join(join, ","))
	}
	return append(args, c.proxyFlags()...)
}

// restartArgsLocked returns the command line that starts p again on the
// addresses it had; proxies other than proxy 0 are given every other
// proxy's admin address to join through (a no-op for a voter already in
// the group). c.mu is held.
func (c *Cluster) restartArgsLocked(p *proxyProc) ([]string, error) {
	a := p.addrs
	listen := strings.TrimPrefix(a.eps.Client, "tcp://")
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return nil, fmt.Errorf("cluster: %s client endpoint %q: %w", p.name, a.eps.Client, err)
	}
	args := []string{"--listen", listen, "--pub", a.eps.Pub, "--backend", a.eps.Backend}
	if a.raft != "" { // the same Raft address: the one the group's configuration records
		args = append(args, "--raft", a.raft)
	}
	if a.admin != "" {
		args = append(args, "--admin", a.admin)
	}
	args = append(args, "--data", p.dir)
	if p.index > 0 {
		if peers := c.peersOf(p); len(peers) > 0 {
			args = append(args, "--join", strings.Join(peers, ","))
		}
	}
	return append(args, c.proxyFlags()...), nil
}

// peersOf returns the admin addresses of every proxy but p, proxy 0's
// first, as far as they are known; c.mu is held or not needed yet.
func (c *Cluster) peersOf(p *proxyProc) []string {
	var out []string
	for _, q := range c.proxies {
		if q == p {
			continue
		}
		switch {
		case q.addrs.admin != "":
			out = append(out, q.addrs.admin)
		case q.planned.admin != "":
			out = append(out, q.planned.admin)
		}
	}
	return out
}

// spawnProxyLocked starts p's process with args; its first ready line
// records its addresses. c.mu is held.
func (c *Cluster) spawnProxyLocked(p *proxyProc, args []string) error {
	ch, err := c.spawn(p.name, RoleProxy, args)
	if err != nil {
		return err
	}
	p.ch = ch
	return nil
}

// proxyFlags returns the flags every proxy is started with after its
// addresses: --insecure-backend and --insecure-clients if so configured,
// then cfg.ProxyArgs.
func (c *Cluster) proxyFlags() []string {
	var out []string
	if c.cfg.InsecureBackend {
		out = append(out, "--insecure-backend")
	}
	if c.cfg.InsecureClients {
		out = append(out, "--insecure-clients")
	}
	return append(out, c.cfg.ProxyArgs...)
}

// backendsLocked returns every proxy's backend endpoint with its key
// (ENDPOINT#KEY, from its ready line), comma-separated, as a server's
// --proxy takes them; c.mu is held.
func (c *Cluster) backendsLocked() string {
	var eps []string
	for _, p := range c.proxies {
		if p.addrs.eps.Backend != "" {
			eps = append(eps, p.addrs.eps.ServerEndpoint())
		}
	}
	return strings.Join(eps, ",")
}

// ProxyInfo describes one proxy of a cluster.
type ProxyInfo struct {
	Index     int
	Name      string          // "proxy" (proxy 0) or "proxy-<i>"
	Dir       string          // its data directory
	Endpoints proxy.Endpoints // its client, PUB and backend endpoints
	Raft      string          // its Raft address, HOST:PORT
	Admin     string          // its admin API, HOST:PORT ("" if it has none)
	PID       int             // its current or last process ID
	Running   bool            // whether that process is still running
	Paused    bool            // whether it is paused (see Cluster.Signal)
}

// Proxies returns the cluster's proxies, by index.
func (c *Cluster) Proxies() []ProxyInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ProxyInfo, 0, len(c.proxies))
	for _, p := range c.proxies {
		info := ProxyInfo{Index: p.index, Name: p.name, Dir: p.dir, Endpoints: p.addrs.eps, Raft: p.addrs.raft, Admin: p.addrs.admin}
		if p.ch != nil {
			info.PID, info.Running, info.Paused = p.ch.pid(), !p.ch.exited, p.ch.paused
		}
		out = append(out, info)
	}
	return out
}

// ProxyEndpoints returns every proxy's endpoints, by index. They stay the
// same when a proxy is restarted.
func (c *Cluster) ProxyEndpoints() []proxy.Endpoints {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]proxy.Endpoints, len(c.proxies))
	for i, p := range c.proxies {
		out[i] = p.addrs.eps
	}
	return out
}

// ClientEndpoints returns every proxy's client endpoint, by index: what
// clients fail over between.
func (c *Cluster) ClientEndpoints() []string {
	var out []string
	for _, eps := range c.ProxyEndpoints() {
		out = append(out, eps.ClientEndpoint())
	}
	return out
}

// ClientEndpoint returns proxy 0's client endpoint as clients are given
// it, tcp://HOST:PORT#KEY (proxy.Endpoints.ClientEndpoint).
func (c *Cluster) ClientEndpoint() string { return c.Endpoints().ClientEndpoint() }

// Endpoints returns proxy 0's bound endpoints. They stay the same when the
// proxy is restarted.
func (c *Cluster) Endpoints() proxy.Endpoints { return c.ProxyEndpoints()[0] }

// proxyLocked returns proxy i; c.mu is held.
func (c *Cluster) proxyLocked(i int) (*proxyProc, error) {
	if i < 0 || i >= len(c.proxies) {
		return nil, fmt.Errorf("%w: proxy %d of %d", ErrUnknownProxy, i, len(c.proxies))
	}
	return c.proxies[i], nil
}

// proxyNamedLocked returns the proxy called name (see ProxyName); c.mu is
// held.
func (c *Cluster) proxyNamedLocked(name string) (*proxyProc, error) {
	if name == proxyName {
		return c.proxyLocked(0)
	}
	if rest, ok := strings.CutPrefix(name, proxyDirPrefix); ok {
		if i, err := strconv.Atoi(rest); err == nil && i != 0 {
			return c.proxyLocked(i)
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownProxy, name)
}
