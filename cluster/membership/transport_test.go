package membership

import (
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"shoplist/cluster/groupca"
)

// foundGroup creates a group's credentials and returns their directory.
func foundGroup(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "credentials")
	if _, err := groupca.Create(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// load loads role's credentials from dir.
func load(t *testing.T, dir string, role groupca.Role) *groupca.Credentials {
	t.Helper()
	c, err := groupca.Load(dir, role)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// groupTLS returns the Raft TLS configuration of a new group's founder.
func groupTLS(t *testing.T, role groupca.Role) *tls.Config {
	t.Helper()
	return load(t, foundGroup(t), role).PeerConfig()
}

func TestTheTLSTransportCarriesTheGroup(t *testing.T) {
	cfg := Config{ID: "p1", Bind: "127.0.0.1:0", TLS: groupTLS(t, groupca.RoleNode), Dir: t.TempDir(), Timeouts: fastTimeouts, Logger: testLogger()}
	n := openNode(t, cfg)
	waitLeader(t, n)
	if err := n.Join(testContext(t), "s1"); err != nil {
		t.Fatal(err)
	}
	if !n.View().Has("s1") {
		t.Fatal("s1 not in the ring")
	}
}

// peerTransport returns a Raft transport dialling with cfg, as a peer
// would.
func peerTransport(t *testing.T, cfg *tls.Config) *raft.NetworkTransport {
	t.Helper()
	stream, err := listenTLS("127.0.0.1:0", "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: 1, Timeout: 5 * time.Second, Logger: hclog.NewNullLogger(),
	})
	t.Cleanup(func() { trans.Close() })
	return trans
}

// TestRaftHearsOnlyPeersWithTheGroupsCertificate sends a lone leader an
// AppendEntries of a later term, which makes a leader step down, from
// peers that lack a certificate the group issued to a proxy: each is
// refused and the leader keeps its term. The same from a proxy of the
// group is heard, and the leader steps down.
func TestRaftHearsOnlyPeersWithTheGroupsCertificate(t *testing.T) {
	dir := foundGroup(t)
	node := load(t, dir, groupca.RoleNode)
	n := openNode(t, Config{ID: "p1", Bind: "127.0.0.1:0", TLS: node.PeerConfig(), Timeouts: fastTimeouts, Logger: testLogger()})
	waitLeader(t, n)
	term := n.raft.CurrentTerm()

	// Each presents its certificate while trusting the group's proxies,
	// so that a refusal is the leader's, not the caller's.
	presenting := func(cert *tls.Certificate) *tls.Config {
		cfg := node.PeerConfig()
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil // none
			}
			return cert, nil
		}
		return cfg
	}
	foreign := load(t, foundGroup(t), groupca.RoleNode).Certificate()
	operator := load(t, dir, groupca.RoleOperator).Certificate()
	outDir := filepath.Join(t.TempDir(), "issued")
	if err := groupca.Issue(dir, outDir, groupca.RoleNode); err != nil {
		t.Fatal(err)
	}
	member := load(t, outDir, groupca.RoleNode).Certificate()

	appendLaterTerm := func(cfg *tls.Config) error {
		trans := peerTransport(t, cfg)
		req := &raft.AppendEntriesRequest{
			RPCHeader: raft.RPCHeader{ID: []byte("intruder"), Addr: trans.EncodePeer("intruder", trans.LocalAddr())},
			Term:      term + 10,
		}
		return trans.AppendEntries("p1", raft.ServerAddress(n.Addr()), req, &raft.AppendEntriesResponse{})
	}
	for name, cfg := range map[string]*tls.Config{
		"no certificate":                        presenting(nil),
		"another group's proxy certificate":     presenting(&foreign),
		"the group's operator certificate":      presenting(&operator),
		"a peer that does not trust the leader": load(t, foundGroup(t), groupca.RoleNode).PeerConfig(),
	} {
		if err := appendLaterTerm(cfg); err == nil {
			t.Errorf("%s: AppendEntries accepted", name)
		}
		if !n.IsLeader() || n.raft.CurrentTerm() != term {
			t.Fatalf("%s: the leader heard it: leader %v, term %d (was %d)", name, n.IsLeader(), n.raft.CurrentTerm(), term)
		}
	}
	if err := appendLaterTerm(presenting(&member)); err != nil {
		t.Fatalf("a proxy of the group: %v", err)
	}
	if got := n.raft.CurrentTerm(); got < term+10 {
		t.Fatalf("term %d after a proxy of the group sent term %d: not heard", got, term+10)
	}
}
