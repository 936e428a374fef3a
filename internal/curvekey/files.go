package curvekey

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"shoplist/internal/atomicfile"
)

// dirName is the directory of a role's keys in its data directory.
const dirName = "curve"

// File name suffixes: NAME.key holds the secret key, NAME.pub the public
// key, each one line of Z85.
const (
	secretSuffix = ".key"
	publicSuffix = ".pub"
)

// DirIn returns the directory of the keys in the data directory data:
// data/curve.
func DirIn(data string) string { return filepath.Join(data, dirName) }

// PublicPath returns the file holding the public key of name in dir, the
// one an operator passes on to admit a server: dir/name.pub.
func PublicPath(dir, name string) string { return filepath.Join(dir, name+publicSuffix) }

// LoadOrCreate returns the key pair name kept in dir, creating it on first
// use: dir (mode 0700) and, each written atomically with mode 0600, the
// secret key (name.key) and then the public key (name.pub). A public key
// file that is missing, or does not match the secret key, is written
// again; a secret key file that others may read is refused. created
// reports a new pair.
func LoadOrCreate(dir, name string) (p Pair, created bool, err error) {
	secretPath := filepath.Join(dir, name+secretSuffix)
	raw, err := os.ReadFile(secretPath)
	switch {
	case err == nil:
		if p, err = loadSecret(secretPath, raw); err != nil {
			return Pair{}, false, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if p, err = Generate(); err != nil {
			return Pair{}, false, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Pair{}, false, fmt.Errorf("curvekey: %w", err)
		}
		if err := atomicfile.WriteFile(secretPath, []byte(p.Secret+"\n")); err != nil {
			return Pair{}, false, fmt.Errorf("curvekey: writing %s: %w", secretPath, err)
		}
		created = true
	default:
		return Pair{}, false, fmt.Errorf("curvekey: %w", err)
	}
	pubPath := PublicPath(dir, name)
	if pub, err := ReadPublic(pubPath); err != nil || pub != p.Public {
		if err := atomicfile.WriteFile(pubPath, []byte(p.Public+"\n")); err != nil {
			return Pair{}, false, fmt.Errorf("curvekey: writing %s: %w", pubPath, err)
		}
	}
	return p, created, nil
}

// loadSecret checks a secret key file's mode and content.
func loadSecret(path string, raw []byte) (Pair, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Pair{}, fmt.Errorf("curvekey: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return Pair{}, fmt.Errorf("curvekey: %s has mode %04o: others may read this secret key (chmod 600 it, or make a new one)", path, perm)
	}
	p, err := FromSecret(strings.TrimSpace(string(raw)))
	if err != nil {
		return Pair{}, fmt.Errorf("curvekey: %s: %w", path, err)
	}
	return p, nil
}

// ReadPublic reads a public key file: one line of Z85, surrounding white
// space ignored.
func ReadPublic(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("curvekey: %w", err)
	}
	key := strings.TrimSpace(string(raw))
	if err := CheckPublic(key); err != nil {
		return "", fmt.Errorf("curvekey: %s: %w", path, err)
	}
	return key, nil
}

// ParsePublic reads a public key as an operator gives it: Z85 text, or
// @PATH naming a file that holds one (a Z85 key may itself start with @:
// it is taken as a key when no such file exists).
func ParsePublic(arg string) (string, error) {
	if path, ok := strings.CutPrefix(arg, "@"); ok {
		key, err := ReadPublic(path)
		if err == nil || CheckPublic(arg) != nil || !errors.Is(err, fs.ErrNotExist) {
			return key, err
		}
	}
	if err := CheckPublic(arg); err != nil {
		return "", err
	}
	return arg, nil
}
