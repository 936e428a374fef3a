package server

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

// idFile is the file in the data directory that holds the server ID.
const idFile = "server-id"

// ErrIDMismatch means the data directory belongs to another server ID than
// the one asked for.
var ErrIDMismatch = errors.New("server: data directory has another server ID")

// loadOrCreateID returns the server ID kept in dir, creating it on first use:
// want if not empty, else a generated one. The caller holds dir's lock (the
// store's), so no other process races for the file. An ID already in dir
// that differs from a non-empty want is an error matching ErrIDMismatch.
func loadOrCreateID(dir, want string) (string, error) {
	path := filepath.Join(dir, idFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(raw))
		if err := protocol.CheckServerID(id); err != nil {
			return "", fmt.Errorf("server: %s does not hold a server ID: %w", path, err)
		}
		if want != "" && want != id {
			return "", fmt.Errorf("%w: %s belongs to server %q, not %q (omit the ID, or use another directory)", ErrIDMismatch, dir, id, want)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("server: reading the server ID: %w", err)
	}
	id := want
	if id == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("server: generating a server ID: %w", err)
		}
		id = "srv-" + hex.EncodeToString(b[:])
	}
	if err := atomicfile.WriteFile(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("server: recording the server ID: %w", err)
	}
	return id, nil
}
