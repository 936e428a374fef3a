package launcher

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"shoplist/cluster/proxynode"
	"shoplist/protocol"
	"shoplist/storage"
)

// Directory names under the data root.
const (
	proxyDirName    = "proxy"  // proxy 0's directory
	proxyDirPrefix  = "proxy-" // proxy i's, i ≥ 1: proxy-<i>
	serverDirPrefix = "server-"
)

// serverDir is one storage server's persistent identity: its ID and data
// directory.
type serverDir struct {
	id, dir string
}

// proxyDir returns the data directory of proxy i under data.
func proxyDir(data string, i int) string {
	if i == 0 {
		return filepath.Join(data, proxyDirName)
	}
	return filepath.Join(data, proxyDirPrefix+strconv.Itoa(i))
}

// hasRaftState reports whether a proxy directory holds Raft state from an
// earlier run: such a proxy rejoins its group by itself and must not wait
// for another to start first.
func hasRaftState(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, proxynode.RaftDir))
	return err == nil
}

// prepareProxies creates the directories of proxies 0 to n-1 under data and
// returns how many proxies the layout has: n, or more when directories
// proxy-<i> of an earlier, larger group are there (every proxy of a Raft
// group is restarted, as a group cut short could not elect a leader). The
// indexes must be contiguous: a gap fails.
func prepareProxies(data string, n int) (int, error) {
	entries, err := os.ReadDir(data)
	if err != nil && !os.IsNotExist(err) {
		return 0, fmt.Errorf("cluster: data directory: %w", err)
	}
	found := 1
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), proxyDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < 1 || i > maxProxies-1 {
			continue
		}
		found = max(found, i+1)
	}
	n = max(n, found)
	for i := range n {
		if err := os.MkdirAll(proxyDir(data, i), 0o755); err != nil {
			return 0, fmt.Errorf("cluster: data directory: %w", err)
		}
	}
	return n, nil
}

// prepareData creates the data layout under data: the directories of the
// proxies (see prepareProxies), the directories of the servers already there
// (sorted by ID), and new ones with fresh random IDs until there are at
// least n. note reports directories it skips, among them the corrupt stores
// servers set aside (storage.IsAside), which are not servers.
func prepareData(data string, n, proxies int, note func(string)) ([]serverDir, int, error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, 0, fmt.Errorf("cluster: data directory: %w", err)
	}
	proxies, err := prepareProxies(data, proxies)
	if err != nil {
		return nil, 0, err
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: data directory: %w", err)
	}
	var dirs []serverDir
	taken := map[string]bool{}
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), serverDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		if storage.IsAside(e.Name()) {
			note(fmt.Sprintf("keeping %s aside: a server's corrupt store, set aside when the server started on an empty one; delete it once inspected", filepath.Join(data, e.Name())))
			continue
		}
		if err := protocol.CheckServerID(id); err != nil {
			note(fmt.Sprintf("skipping %s: %v", filepath.Join(data, e.Name()), err))
			continue
		}
		dirs = append(dirs, serverDir{id: id, dir: filepath.Join(data, e.Name())})
		taken[id] = true
	}
	for len(dirs) < n {
		d, err := newServerDir(data, taken)
		if err != nil {
			return nil, 0, err
		}
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, func(a, b serverDir) int { return strings.Compare(a.id, b.id) })
	return dirs, proxies, nil
}

// newServerDir creates the directory of a new server with a fresh random ID
// not in taken, and adds the ID to taken.
func newServerDir(data string, taken map[string]bool) (serverDir, error) {
	for {
		id, err := newServerID()
		if err != nil {
			return serverDir{}, err
		}
		if taken[id] {
			continue
		}
		d := serverDir{id: id, dir: filepath.Join(data, serverDirPrefix+id)}
		if err := os.Mkdir(d.dir, 0o755); err != nil {
			return serverDir{}, fmt.Errorf("cluster: data directory: %w", err)
		}
		taken[id] = true
		return d, nil
	}
}

// newServerID returns a random server ID such as "s3fa9c21b".
func newServerID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cluster: random server ID: %w", err)
	}
	return "s" + hex.EncodeToString(b[:]), nil
}
