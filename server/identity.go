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
	if err := writeFileAtomic(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("server: recording the server ID: %w", err)
	}
	return id, nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, complete: it writes a temporary file beside it,
// syncs it, renames it over path and syncs the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
