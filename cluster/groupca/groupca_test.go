package groupca

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// found creates a group's credentials in a fresh directory and returns it.
func found(t *testing.T) string {
	t.Helper()
	dir := DirIn(t.TempDir())
	_, err := Create(dir)
	must(t, err)
	return dir
}

// checkPrivate fails unless dir is mode 0700 and holds exactly names, each
// mode 0600.
func checkPrivate(t *testing.T, dir string, names ...string) {
	t.Helper()
	st, err := os.Stat(dir)
	must(t, err)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", dir, st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		info, err := e.Info()
		must(t, err)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestCreateWritesEveryFileForItsOwnerOnly(t *testing.T) {
	dir := found(t)
	checkPrivate(t, dir, CAFile, CAKeyFile, NodeFile, NodeKeyFile, OperatorFile, OperatorKeyFile)
	node, err := Load(dir, RoleNode)
	must(t, err)
	op, err := Load(dir, RoleOperator)
	must(t, err)
	if node.Role() != RoleNode || op.Role() != RoleOperator || node.Group() != op.Group() {
		t.Fatalf("node %s of %q, operator %s of %q", node.Role(), node.Group(), op.Role(), op.Group())
	}
	if !IsNode(node.Certificate().Leaf) || IsNode(op.Certificate().Leaf) {
		t.Fatal("IsNode does not tell the node's certificate from the operator's")
	}
}

func TestCreateRefusesADirectoryThatHoldsCredentials(t *testing.T) {
	dir := found(t)
	before, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	must(t, err)
	if _, err := Create(dir); !errors.Is(err, ErrExists) {
		t.Fatalf("a second Create: %v, want ErrExists", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Fatal("a refused Create replaced the CA key")
	}
	// An empty directory is taken, and made private.
	empty := filepath.Join(t.TempDir(), "empty")
	must(t, os.Mkdir(empty, 0o755))
	_, err = Create(empty)
	must(t, err)
	checkPrivate(t, empty, CAFile, CAKeyFile, NodeFile, NodeKeyFile, OperatorFile, OperatorKeyFile)
	// Nothing is left beside them.
	entries, err := os.ReadDir(filepath.Dir(dir))
	must(t, err)
	if len(entries) != 1 {
		t.Fatalf("%d entries beside the credentials, want none", len(entries)-1)
	}
}

func TestIssueGivesABundleWithoutTheCAKey(t *testing.T) {
	founder := found(t)
	out := filepath.Join(t.TempDir(), "new-proxy")
	must(t, Issue(founder, out, RoleNode))
	checkPrivate(t, out, CAFile, NodeFile, NodeKeyFile)
	issued, err := Load(out, RoleNode)
	must(t, err)
	mine, err := Load(founder, RoleNode)
	must(t, err)
	if issued.Group() != mine.Group() || issued.Certificate().Leaf.Equal(mine.Certificate().Leaf) {
		t.Fatalf("issued a certificate of %q (the same as the founder's: %v), want a new one of %q",
			issued.Group(), issued.Certificate().Leaf.Equal(mine.Certificate().Leaf), mine.Group())
	}
	if _, err := Load(out, RoleOperator); !errors.Is(err, ErrMissing) {
		t.Fatalf("operator credentials from a node's bundle: %v, want ErrMissing", err)
	}
	// A bundle cannot issue: it has no CA key.
	if err := Issue(out, filepath.Join(t.TempDir(), "x"), RoleNode); !errors.Is(err, ErrMissing) {
		t.Fatalf("issuing from a bundle: %v, want ErrMissing", err)
	}
	if err := Issue(founder, out, RoleNode); !errors.Is(err, ErrExists) {
		t.Fatalf("issuing over a bundle: %v, want ErrExists", err)
	}
	opOut := filepath.Join(t.TempDir(), "laptop")
	must(t, Issue(founder, opOut, RoleOperator))
	checkPrivate(t, opOut, CAFile, OperatorFile, OperatorKeyFile)
	if _, err := Load(opOut, RoleOperator); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesCertificatesOfAnotherGroupOrRole(t *testing.T) {
	mine, theirs := found(t), found(t)
	copyFile := func(from, to string) {
		t.Helper()
		p, err := os.ReadFile(from)
		must(t, err)
		must(t, os.WriteFile(to, p, 0o600))
	}
	// Another group's node certificate beside this group's CA.
	copyFile(filepath.Join(theirs, NodeFile), filepath.Join(mine, NodeFile))
	copyFile(filepath.Join(theirs, NodeKeyFile), filepath.Join(mine, NodeKeyFile))
	if _, err := Load(mine, RoleNode); !errors.Is(err, ErrNotIssued) {
		t.Fatalf("another group's node certificate: %v, want ErrNotIssued", err)
	}
	// The operator's certificate where a node's is needed.
	copyFile(filepath.Join(mine, OperatorFile), filepath.Join(mine, NodeFile))
	copyFile(filepath.Join(mine, OperatorKeyFile), filepath.Join(mine, NodeKeyFile))
	if _, err := Load(mine, RoleNode); !errors.Is(err, ErrNotIssued) {
		t.Fatalf("an operator's certificate as a node's: %v, want ErrNotIssued", err)
	}
	if _, err := Load(t.TempDir(), RoleOperator); !errors.Is(err, ErrMissing) {
		t.Fatalf("an empty directory: %v, want ErrMissing", err)
	}
}

// handshake runs a TLS handshake over a pipe and returns each side's
// error. The server writes a byte once its handshake succeeds, which the
// client reads: in TLS 1.3 the client finishes before the server has
// checked its certificate, and learns of a refusal only on reading.
func handshake(t *testing.T, client, server *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	c, s := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	must(t, c.SetDeadline(deadline))
	must(t, s.SetDeadline(deadline))
	done := make(chan error, 1)
	go func() {
		sc := tls.Server(s, server)
		err := sc.Handshake()
		if err == nil {
			_, err = sc.Write([]byte{1})
		}
		s.Close()
		done <- err
	}()
	cc := tls.Client(c, client)
	clientErr = cc.Handshake()
	if clientErr == nil {
		var b [1]byte
		_, clientErr = cc.Read(b[:])
	}
	c.Close()
	return clientErr, <-done
}

func TestTLSConfigurationsAdmitOnlyTheGroupsRoles(t *testing.T) {
	dir := found(t)
	node, err := Load(dir, RoleNode)
	must(t, err)
	op, err := Load(dir, RoleOperator)
	must(t, err)
	foreign, err := Load(found(t), RoleNode)
	must(t, err)

	// Presents a certificate while trusting this group's proxies, so that
	// a refusal is the server's.
	presenting := func(c *Credentials) *tls.Config {
		cfg := node.ClientConfig()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert := c.Certificate()
			return &cert, nil
		}
		return cfg
	}
	anonymous := node.ClientConfig()
	anonymous.GetClientCertificate = nil

	cases := []struct {
		name           string
		client, server *tls.Config
		ok             bool
	}{
		{"operator to the admin API", op.ClientConfig(), node.ServerConfig(), true},
		{"proxy to the admin API", node.ClientConfig(), node.ServerConfig(), true},
		{"proxy to a proxy", node.PeerConfig(), node.PeerConfig(), true},
		{"no certificate to the admin API", anonymous, node.ServerConfig(), false},
		{"another group's proxy to the admin API", presenting(foreign), node.ServerConfig(), false},
		{"no certificate to a proxy", anonymous, node.PeerConfig(), false},
		{"another group's proxy to a proxy", presenting(foreign), node.PeerConfig(), false},
		{"operator to a proxy's Raft", presenting(op), node.PeerConfig(), false},
		{"operator to another group's admin API", op.ClientConfig(), foreign.ServerConfig(), false},
		{"proxy to another group's proxy", node.PeerConfig(), foreign.PeerConfig(), false},
	}
	for _, c := range cases {
		clientErr, serverErr := handshake(t, c.client, c.server)
		if c.ok && (clientErr != nil || serverErr != nil) {
			t.Errorf("%s: refused: client %v, server %v", c.name, clientErr, serverErr)
		}
		if !c.ok && (clientErr == nil || serverErr == nil) {
			t.Errorf("%s: client %v, server %v; want both to fail", c.name, clientErr, serverErr)
		}
	}
	if v := node.ServerConfig().MinVersion; v != tls.VersionTLS13 {
		t.Errorf("minimum version %x, want TLS 1.3", v)
	}
}

func TestMissingFilesSayWhatIsMissing(t *testing.T) {
	dir := found(t)
	must(t, os.Remove(filepath.Join(dir, OperatorKeyFile)))
	_, err := Load(dir, RoleOperator)
	if !errors.Is(err, ErrMissing) || errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Load without the key: %v, want ErrMissing", err)
	}
	if want := filepath.Join(dir) + " has no " + OperatorKeyFile; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}
