package membership

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"shoplist/cluster/groupca"
	"shoplist/cluster/placement"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestSingleNodeBootstrapsJoinsAndSurvivesReopen(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	cfg := testConfig("p1", "p1-addr")
	cfg.Dir = dir
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	waitEpoch(t, 1, n) // the leader commits N and vnodes

	if err := n.Join(ctx, "s1"); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if v := n.View(); v.Epoch != 2 || !v.Has("s1") {
		t.Fatalf("after Join returned: epoch %d ring %v, want epoch 2 with s1", v.Epoch, v.Ring.Servers())
	}
	select {
	case <-n.Changes():
	default:
		t.Fatal("Changes not signalled after Join")
	}
	steps := []struct {
		do   func() error
		want error
	}{
		{func() error { return n.Join(ctx, "s1") }, nil},                      // member: no-op
		{func() error { return n.Remove(ctx, "s1") }, nil},                    // epoch 3
		{func() error { return n.Join(ctx, "s1") }, placement.ErrRemoved},     // stays out
		{func() error { return n.Remove(ctx, "s1") }, placement.ErrNotMember}, // not a member
		{func() error { return n.Join(ctx, "s2") }, nil},                      // epoch 4
		{func() error { return n.Leave(ctx, "s2") }, nil},                     // epoch 5
	}
	for i, s := range steps {
		if err := s.do(); s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Fatalf("step %d: %v, want %v", i, err, s.want)
		}
	}
	if v := n.View(); v.Epoch != 5 || v.Ring.Len() != 0 || !slices.Equal(v.Leaving, []string{"s2"}) || !v.Has("s2") {
		t.Fatalf("epoch %d ring %v leaving %v, want 5, [], [s2]", v.Epoch, v.Ring.Servers(), v.Leaving)
	}
	if _, err := os.Stat(filepath.Join(dir, boltFile)); err != nil {
		t.Fatalf("the raft log is not in the data directory: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	cfg = testConfig("p1", "p1-addr")
	cfg.Dir = dir
	n = openNode(t, cfg)
	waitLeader(t, n)
	waitEpoch(t, 5, n) // the log is applied again once it is known committed
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch != 5 || !slices.Equal(st.Members, []Member{{"s2", Leaving}}) || !slices.Equal(st.Removed, []string{"s1"}) ||
		st.N != 3 || st.VNodes != 3 || st.LeaderID != "p1" || len(st.Voters) != 1 {
		t.Fatalf("status after reopen: %+v", st)
	}
	if err := n.Join(ctx, "s1"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("Join of a removed server after reopen: %v, want placement.ErrRemoved", err)
	}
	if err := n.Join(ctx, "s3"); err != nil {
		t.Fatal(err)
	}
	if v := n.View(); v.Epoch != 6 {
		t.Fatalf("epoch %d after one more change, want 6", v.Epoch)
	}
}

func TestCommittedConfigurationWinsOverAReopenedNodesFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig("p1", "p1-addr")
	cfg.Dir = dir
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	waitEpoch(t, 1, n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	cfg = testConfig("p1", "p1-addr")
	cfg.Dir, cfg.N, cfg.VNodes = dir, 2, 7
	n = openNode(t, cfg)
	waitLeader(t, n)
	if err := n.Join(testContext(t), "s1"); err != nil {
		t.Fatal(err)
	}
	if v := n.View(); v.Epoch != 2 || v.Ring.VNodes() != 3 {
		t.Fatalf("epoch %d vnodes %d, want 2 and the committed 3", v.Epoch, v.Ring.VNodes())
	}
}

func TestOpenRefusesBadConfig(t *testing.T) {
	peer := groupTLS(t, groupca.RoleNode)
	lax := peer.Clone()
	lax.ClientAuth = tls.VerifyClientCertIfGiven
	for name, cfg := range map[string]Config{
		"no ID":                       {Bind: "127.0.0.1:0", TLS: peer},
		"no transport":                {ID: "p1"},
		"no TLS":                      {ID: "p1", Bind: "127.0.0.1:0"},
		"TLS that trusts any peer":    {ID: "p1", Bind: "127.0.0.1:0", TLS: lax},
		"TLS without a certificate":   {ID: "p1", Bind: "127.0.0.1:0", TLS: &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert}},
		"N too large":                 {ID: "p1", Bind: "127.0.0.1:0", TLS: peer, N: 99},
		"voters without me":           {ID: "p1", Bind: "127.0.0.1:0", TLS: peer, Voters: []Voter{{"p2", "a"}}},
		"lease > heartbeat":           {ID: "p1", Bind: "127.0.0.1:0", TLS: peer, Timeouts: Timeouts{Heartbeat: 50e6, LeaderLease: 100e6}},
		"an address peers cannot use": {ID: "p1", Bind: "0.0.0.0:0", TLS: peer},
	} {
		if n, err := Open(cfg); !errors.Is(err, ErrConfig) {
			if n != nil {
				n.Close()
			}
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

func TestCatchUpGivesTheLatestCommittedStateAfterAReopen(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig("p1", "p1-addr")
	cfg.Dir = dir
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	ctx := testContext(t)
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5"} {
		if err := n.Join(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	cfg = testConfig("p1", "p1-addr")
	cfg.Dir = dir
	n = openNode(t, cfg)
	select {
	case <-n.Configured():
	case <-ctx.Done():
		t.Fatal("not configured after the reopen")
	}
	if err := n.CatchUp(ctx); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if v := n.View(); v.Epoch != 6 || v.Ring.Len() != 5 {
		t.Fatalf("after CatchUp: epoch %d ring %v, want 6 with five servers", v.Epoch, v.Ring.Servers())
	}
}
