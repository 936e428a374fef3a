package groupca

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Names of the files in a directory of credentials.
const (
	CAFile          = "ca.pem"
	CAKeyFile       = "ca-key.pem"
	NodeFile        = "node.pem"
	NodeKeyFile     = "node-key.pem"
	OperatorFile    = "operator.pem"
	OperatorKeyFile = "operator-key.pem"
)

// dirName is the directory of a proxy's credentials in its data directory.
const dirName = "credentials"

// ErrMissing means a directory does not hold the credentials asked for.
var ErrMissing = errors.New("groupca: no credentials")

// ErrExists means credentials would be written where some are already.
var ErrExists = errors.New("groupca: credentials exist already")

// DirIn returns the directory of credentials in the proxy data directory
// data: data/credentials.
func DirIn(data string) string { return filepath.Join(data, dirName) }

// roleFiles returns the names of role's certificate and key.
func roleFiles(role Role) (cert, key string) {
	if role == RoleOperator {
		return OperatorFile, OperatorKeyFile
	}
	return NodeFile, NodeKeyFile
}

// Create founds a group's credentials in dir, which must not exist or be
// empty: a new CA (CAFile, CAKeyFile), a node's credentials for the
// founding proxy and an operator's. It returns the node's.
func Create(dir string) (*Credentials, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	node, err := ca.Issue(RoleNode)
	if err != nil {
		return nil, err
	}
	op, err := ca.Issue(RoleOperator)
	if err != nil {
		return nil, err
	}
	caKey, err := ca.keyPEM()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{CAFile: ca.certPEM(), CAKeyFile: caKey}
	addFiles(files, node)
	addFiles(files, op)
	if err := writeDir(dir, files); err != nil {
		return nil, err
	}
	return node, nil
}

// Issue issues credentials for role with the CA whose certificate and key
// are in caDir, and writes them with the CA certificate into out, which
// must not exist or be empty: the bundle a new proxy (RoleNode) or an
// operator on another machine (RoleOperator) is given.
func Issue(caDir, out string, role Role) error {
	ca, err := LoadCA(caDir)
	if err != nil {
		return err
	}
	c, err := ca.Issue(role)
	if err != nil {
		return err
	}
	files := map[string][]byte{CAFile: c.caPEM}
	addFiles(files, c)
	return writeDir(out, files)
}

func addFiles(files map[string][]byte, c *Credentials) {
	cert, key := roleFiles(c.role)
	files[cert], files[key] = c.pemKey[0], c.pemKey[1]
}

// Load reads role's credentials from dir and checks them against the CA
// certificate beside them. Missing files are an error wrapping ErrMissing.
func Load(dir string, role Role) (*Credentials, error) {
	certName, keyName := roleFiles(role)
	var pems [3][]byte
	for i, name := range []string{CAFile, certName, keyName} {
		p, err := readFile(dir, name)
		if err != nil {
			return nil, err
		}
		pems[i] = p
	}
	c, err := newCredentials(role, pems[0], pems[1], pems[2])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return c, nil
}

// LoadCA reads the CA from dir: the founder's directory of credentials,
// the only one holding CAKeyFile.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := readFile(dir, CAFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readFile(dir, CAKeyFile)
	if err != nil {
		return nil, err
	}
	ca, err := parseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return ca, nil
}

// readFile reads dir/name; a missing file wraps ErrMissing.
func readFile(dir, name string) ([]byte, error) {
	p, err := os.ReadFile(filepath.Join(dir, name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s has no %s", ErrMissing, dir, name)
	case err != nil:
		return nil, fmt.Errorf("groupca: %w", err)
	}
	return p, nil
}

// writeDir creates dir holding files, each mode 0600, the directory mode
// 0700: it writes them into a temporary directory beside dir, syncs them
// and renames it to dir, so dir appears complete or not at all. An
// existing dir that is not empty is refused with ErrExists.
func writeDir(dir string, files map[string][]byte) (err error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("groupca: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*") // mode 0700
	if err != nil {
		return fmt.Errorf("groupca: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for name, data := range files {
		if err := writeFile(filepath.Join(tmp, name), data); err != nil {
			return err
		}
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := removeEmpty(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s appeared meanwhile", ErrExists, dir)
		}
		return fmt.Errorf("groupca: %w", err)
	}
	return syncDir(parent)
}

// removeEmpty removes dir if it is an empty directory, so that a complete
// one can take its place; anything else there is refused with ErrExists.
func removeEmpty(dir string) error {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("groupca: %w", err)
	case !st.IsDir():
		return fmt.Errorf("%w: %s is not a directory", ErrExists, dir)
	}
	if err := os.Remove(dir); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) {
			return fmt.Errorf("%w: %s is not empty", ErrExists, dir)
		}
		return fmt.Errorf("groupca: %w", err)
	}
	return nil
}

// writeFile writes a new file of mode 0600 and syncs it.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("groupca: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("groupca: writing %s: %w", path, err)
	}
	return nil
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("groupca: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("groupca: syncing %s: %w", dir, err)
	}
	return nil
}
