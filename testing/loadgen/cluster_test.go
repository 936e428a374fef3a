package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"shoplist/cluster/launcher"
)

// TestMain runs a cluster role when launcher.Launch re-executes this test
// binary.
func TestMain(m *testing.M) {
	if ran, code := launcher.RunChild(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestBenchAgainstARealCluster is the smoke test of the whole path: a real
// proxy and five real servers (child processes), a short load, and the
// verification by quorum reads.
func TestBenchAgainstARealCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := launcher.Launch(ctx, launcher.Config{Data: t.TempDir(), Servers: 5, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	cfg := quickConfig(c.ClientEndpoint())
	cfg.Clients, cfg.Duration, cfg.Warmup, cfg.Stored = 8, time.Second, 200*time.Millisecond, 100
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("%v", res.Verdict)
	}
	if res.Push.Count() == 0 || res.Pull.Count() == 0 || res.Live.Count() == 0 {
		t.Fatalf("counts push %d pull %d live %d: want all nonzero", res.Push.Count(), res.Pull.Count(), res.Live.Count())
	}
	if len(res.Errors) != 0 || res.LiveMissed != 0 {
		t.Errorf("errors %v, %d live updates missed: want none from a healthy, lightly loaded cluster", res.Errors, res.LiveMissed)
	}
	if res.Unchanged == 0 {
		t.Errorf("no pull of %d was answered Unchanged: pulls of private lists the client holds in full should be", res.Pull.Count())
	}
}
