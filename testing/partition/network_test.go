//go:build partition

package partition

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// prefix names every namespace, veth and bridge the test creates, so that
// leftovers of a crashed run are found by name. Interface names are at
// most 15 bytes: prefix plus a short name fits.
const prefix = "slpt-"

// The two bridges: every link is on main unless a split moved it to side.
const (
	bridgeMain = prefix + "br0"
	bridgeSide = prefix + "br1"
)

// subnet is the network the namespaces share; hosts are numbered in it.
const subnet = "198.18.0."

// host is one namespace: its name (also the name of its veth's end on the
// bridges; the end inside is eth0) and its address.
type host struct {
	name string // without the prefix: "p0", "s3", "c1"
	addr string // 198.18.0.x
}

// ns returns the namespace's name, which is also its veth's on the bridge.
func (h host) ns() string { return prefix + h.name }

// network is the test's namespaces, veths and bridges, and the state of
// every cut, so that a heal undoes exactly what was done.
type network struct {
	hosts map[string]host
	down  map[string]bool    // links set down, by host name
	moved map[string]bool    // links on the side bridge, by host name
	cuts  map[[2]string]bool // pairs cut from each other, sorted
	made  int                // partition actions made (each cut, down, move)
}

// ip runs the ip command with args and returns its error with its output.
func ip(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ipOutput runs the ip command with args and returns its output.
func ipOutput(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).Output()
	if err != nil {
		return "", fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// newNetwork creates the bridges and one namespace per host, each joined
// to the main bridge by a veth, with its address on eth0 and loopback up.
// On error what was made is left for close.
func newNetwork(ctx context.Context, hosts []host) (*network, error) {
	n := &network{hosts: map[string]host{}, down: map[string]bool{}, moved: map[string]bool{}, cuts: map[[2]string]bool{}}
	for _, br := range []string{bridgeMain, bridgeSide} {
		if err := ip(ctx, "link", "add", br, "type", "bridge"); err != nil {
			return n, err
		}
		if err := noIPv6("", br); err != nil {
			return n, err
		}
		if err := ip(ctx, "link", "set", br, "up"); err != nil {
			return n, err
		}
	}
	for _, h := range hosts {
		n.hosts[h.name] = h
		if err := ip(ctx, "netns", "add", h.ns()); err != nil {
			return n, err
		}
		if err := ip(ctx, "link", "add", h.ns(), "type", "veth", "peer", "name", "eth0", "netns", h.ns()); err != nil {
			return n, err
		}
		// No IPv6 on either end: nothing but 198.18.0.0/24 crosses the
		// bridges, not even link-local solicitations.
		if err := noIPv6("", h.ns()); err != nil {
			return n, err
		}
		if err := noIPv6(h.ns(), "eth0"); err != nil {
			return n, err
		}
		steps := [][]string{
			{"link", "set", h.ns(), "master", bridgeMain, "up"},
			{"-n", h.ns(), "addr", "add", h.addr + "/24", "dev", "eth0"},
			{"-n", h.ns(), "link", "set", "eth0", "up"},
			{"-n", h.ns(), "link", "set", "lo", "up"},
		}
		for _, s := range steps {
			if err := ip(ctx, s...); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// noIPv6 disables IPv6 on device dev of namespace ns ("" for the test's
// own) before it is up.
func noIPv6(ns, dev string) error {
	path := "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6"
	if ns == "" {
		if err := os.WriteFile(path, []byte("1"), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("disabling IPv6 on %s: %w", dev, err)
		}
		return nil
	}
	// The namespace's /proc/sys/net is seen from a process inside it.
	out, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", "[ ! -e "+path+" ] || echo 1 > "+path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("disabling IPv6 on %s in %s: %w: %s", dev, ns, err, bytes.TrimSpace(out))
	}
	return nil
}

// removeLeftovers deletes every namespace and link named with the prefix:
// what a run left, or a crashed run. Processes still in such a namespace
// (a crashed run's) are killed by process ID first.
func removeLeftovers(ctx context.Context) error {
	var errs []error
	out, err := ipOutput(ctx, "netns", "list")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		pids, _ := ipOutput(ctx, "netns", "pids", f[0])
		for _, pid := range strings.Fields(pids) {
			_ = exec.CommandContext(ctx, "kill", "-KILL", pid).Run()
		}
		if err := ip(ctx, "netns", "del", f[0]); err != nil {
			errs = append(errs, err)
		}
	}
	// Deleting a namespace destroys its veth pair, asynchronously: delete
	// what is left of the pairs and the bridges by name, then wait until
	// no link with the prefix remains.
	deadline := time.Now().Add(20 * time.Second)
	for {
		links, err := prefixedLinks(ctx)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if len(links) == 0 {
			return errors.Join(errs...)
		}
		if time.Now().After(deadline) {
			return errors.Join(append(errs, fmt.Errorf("links left after 20s: %v", links))...)
		}
		for _, l := range links {
			_ = ip(ctx, "link", "del", l) // may be gone already
		}
		select { // polling the kernel's asynchronous clean-up
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// prefixedLinks returns the links of this namespace named with the prefix.
func prefixedLinks(ctx context.Context) ([]string, error) {
	out, err := ipOutput(ctx, "-o", "link", "show")
	if err != nil {
		return nil, err
	}
	var links []string
	for _, line := range strings.Split(out, "\n") {
		// "12: slpt-p0@if2: <...> ..."
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if strings.HasPrefix(name, prefix) {
			links = append(links, name)
		}
	}
	return links, nil
}

// isolate sets h's link down: h reaches nobody and nobody reaches it.
func (n *network) isolate(ctx context.Context, h string) error {
	if err := ip(ctx, "link", "set", n.hosts[h].ns(), "down"); err != nil {
		return err
	}
	n.down[h] = true
	n.made++
	return nil
}

// rejoin sets h's link up again.
func (n *network) rejoin(ctx context.Context, h string) error {
	if err := ip(ctx, "link", "set", n.hosts[h].ns(), "up"); err != nil {
		return err
	}
	delete(n.down, h)
	return nil
}

// pair returns a and b sorted, the key of a cut.
func pair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// nowhere is a hardware address no interface has (locally administered):
// frames sent to it are flooded by the bridge and taken by nobody.
const nowhere = "02:00:00:00:00:01"

// cut makes a and b unreachable from each other only: each is given
// nowhere as the other's hardware address, a permanent neighbour entry, so
// that what they send each other is dropped on the way, silently, as on a
// broken path: connections time out rather than fail (a blackhole route
// would fail them at once, which no partition does), and no other path is
// touched.
func (n *network) cut(ctx context.Context, a, b string) error {
	for _, d := range [][2]string{{a, b}, {b, a}} {
		from, to := n.hosts[d[0]], n.hosts[d[1]]
		if err := ip(ctx, "-n", from.ns(), "neigh", "replace", to.addr, "lladdr", nowhere, "nud", "permanent", "dev", "eth0"); err != nil {
			return err
		}
	}
	n.cuts[pair(a, b)] = true
	n.made++
	return nil
}

// uncut removes the entries cut added: a and b learn each other's
// addresses again (ARP).
func (n *network) uncut(ctx context.Context, a, b string) error {
	for _, d := range [][2]string{{a, b}, {b, a}} {
		from, to := n.hosts[d[0]], n.hosts[d[1]]
		if err := ip(ctx, "-n", from.ns(), "neigh", "del", to.addr, "dev", "eth0"); err != nil {
			return err
		}
	}
	delete(n.cuts, pair(a, b))
	return nil
}

// split moves the links of side to the side bridge: they reach each other
// and nobody on the main bridge.
func (n *network) split(ctx context.Context, side []string) error {
	for _, h := range side {
		if err := ip(ctx, "link", "set", n.hosts[h].ns(), "master", bridgeSide); err != nil {
			return err
		}
		n.moved[h] = true
	}
	n.made++
	return nil
}

// heal undoes every cut, link down and split.
func (n *network) heal(ctx context.Context) error {
	var errs []error
	for _, h := range slices.Sorted(maps.Keys(n.down)) {
		errs = append(errs, n.rejoin(ctx, h))
	}
	for _, p := range slices.SortedFunc(maps.Keys(n.cuts), func(x, y [2]string) int { return strings.Compare(x[0]+x[1], y[0]+y[1]) }) {
		errs = append(errs, n.uncut(ctx, p[0], p[1]))
	}
	for _, h := range slices.Sorted(maps.Keys(n.moved)) {
		if err := ip(ctx, "link", "set", n.hosts[h].ns(), "master", bridgeMain); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(n.moved, h)
	}
	return errors.Join(errs...)
}

// partitioned reports whether any cut, link down or split is in place.
func (n *network) partitioned() bool { return len(n.down)+len(n.cuts)+len(n.moved) > 0 }
