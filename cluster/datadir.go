package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"shoplist/protocol"
)

// Directory names under the data root.
const (
	proxyDirName    = "proxy"
	serverDirPrefix = "server-"
)

// serverDir is one storage server's persistent identity: its ID and data
// directory.
type serverDir struct {
	id, dir string
}

// prepareData creates the data layout under data: the proxy's directory, the
// directories of the servers already there (sorted by ID), and new ones with
// fresh random IDs until there are at least n. note reports directories it
// skips.
func prepareData(data string, n int, note func(string)) ([]serverDir, error) {
	if err := os.MkdirAll(filepath.Join(data, proxyDirName), 0o755); err != nil {
		return nil, fmt.Errorf("cluster: data directory: %w", err)
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		return nil, fmt.Errorf("cluster: data directory: %w", err)
	}
	var dirs []serverDir
	taken := map[string]bool{}
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), serverDirPrefix)
		if !ok || !e.IsDir() {
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
		id, err := newServerID()
		if err != nil {
			return nil, err
		}
		if taken[id] {
			continue
		}
		d := serverDir{id: id, dir: filepath.Join(data, serverDirPrefix+id)}
		if err := os.Mkdir(d.dir, 0o755); err != nil {
			return nil, fmt.Errorf("cluster: data directory: %w", err)
		}
		dirs = append(dirs, d)
		taken[id] = true
	}
	slices.SortFunc(dirs, func(a, b serverDir) int { return strings.Compare(a.id, b.id) })
	return dirs, nil
}

// newServerID returns a random server ID such as "s3fa9c21b".
func newServerID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cluster: random server ID: %w", err)
	}
	return "s" + hex.EncodeToString(b[:]), nil
}
