package proxynode

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"shoplist/internal/atomicfile"
	"shoplist/protocol"
)

// newID returns a fresh proxy ID.
func newID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("proxynode: generating a proxy ID: %w", err)
	}
	return "proxy-" + hex.EncodeToString(b[:]), nil
}

// loadOrCreateID returns the proxy ID kept at path, creating it on first
// use. The Raft store's lock (raft.db), taken right after, keeps a second
// proxy off the directory; two racing for a missing file both write a
// complete one, and the loser fails on the lock.
func loadOrCreateID(path string) (string, error) {
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(raw))
		if err := protocol.CheckServerID(id); err != nil {
			return "", fmt.Errorf("proxynode: %s does not hold a proxy ID: %w", path, err)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("proxynode: reading the proxy ID: %w", err)
	}
	id, err := newID()
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("proxynode: recording the proxy ID: %w", err)
	}
	return id, nil
}

// renameDurably renames from to to and syncs the directory.
func renameDurably(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(to))
}
