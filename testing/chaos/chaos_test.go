//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"shoplist/cluster/launcher"
	"shoplist/hashring"
	"shoplist/testing/converge"
	"shoplist/testing/testcluster"
)

// TestMain runs a cluster role when launcher.Launch re-executes this test
// binary.
func TestMain(m *testing.M) {
	if ran, code := launcher.RunChild(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// The cluster under test.
const (
	proxies   = 3
	servers   = 5
	clients   = 10
	heartbeat = 500 * time.Millisecond
)

func TestChaos(t *testing.T) {
	duration := converge.EnvDuration(t, "CHAOS_DURATION", 60*time.Second)
	// Servers forget removes after a short horizon, so lists are compacted
	// under faults too. It must stay above the longest a replica lags (a
	// writer's whole-item deltas carry its copies of others' slots; a
	// server comes back from a fault seconds later): below that, a stale
	// copy brings back what the floor forgot, as crdt/compact.go says.
	horizon := converge.EnvDuration(t, "CHAOS_HORIZON", 40*time.Second)
	convergeWithin := converge.EnvDuration(t, "CHAOS_CONVERGE", 5*time.Minute)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", v, err)
		}
		seed = s
	}
	keep := os.Getenv("CHAOS_KEEP")
	data, logPath := keep, filepath.Join(keep, "chaos.log")
	if keep == "" {
		// The data goes with the test; the log stays if the test fails.
		data = t.TempDir()
		logPath = filepath.Join(os.TempDir(), fmt.Sprintf("shoplist-chaos-%d.log", seed))
	} else if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := &syncWriter{w: logFile}
	logf := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		logs.Write([]byte("[chaos] " + line + "\n"))
		t.Log(line)
	}
	t.Logf("chaos: seed %d, %v of faults, data in %s, log in %s", seed, duration, data, logPath)
	t.Cleanup(func() {
		switch {
		case t.Failed():
			t.Logf("the cluster's log: %s (CHAOS_SEED=%d reproduces the fault schedule)", logPath, seed)
		case keep == "":
			os.Remove(logPath)
		}
	})

	ctx := context.Background()
	launchCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	c, err := launcher.Launch(launchCtx, launcher.Config{
		Data:         filepath.Join(data, "cluster"),
		Servers:      servers,
		Proxies:      proxies,
		Listen:       "127.0.0.1:0",
		Stderr:       logs,
		ProxyArgs:    []string{"--heartbeat", heartbeat.String(), "--timeout", "3s", "--anti-entropy", "250ms"},
		ServerArgs:   []string{"--heartbeat", heartbeat.String(), "--tombstone-horizon", horizon.String()},
		ReadyTimeout: time.Minute,
		StopGrace:    10 * time.Second,
	})
	cancel()
	if err != nil {
		t.Fatalf("launching the cluster: %v", err)
	}
	exits := watchExits(c, logf)
	defer func() {
		c.Close()
		exits() // the watcher logs nothing once the test has returned
	}()

	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	w, err := testcluster.StartWriters(wctx, testcluster.WriterConfig{
		Endpoints: c.ClientEndpoints(), Clients: clients, Private: 3, Shared: 2, Items: 10,
		Timeout: 3 * time.Second, Pace: 20 * time.Millisecond,
	})
	cancel()
	if err != nil {
		t.Fatalf("starting the writers: %v", err)
	}

	// Faults while the clients write.
	in := newInjector(c, seed, logf)
	start := time.Now()
	injectErr := in.run(ctx, start.Add(duration))
	healed := time.Now()
	ledger, stats, werr := w.Stop()
	logf("chaos: %v of faults over; every process runs again", healed.Sub(start).Round(time.Millisecond))
	if injectErr != nil {
		t.Fatalf("fault injector: %v", injectErr)
	}
	if werr != nil {
		// A writer that stopped early or pulled what nobody sent: its
		// ledger still holds, so the checks below run too.
		t.Errorf("writers: %v", werr)
	}

	// Convergence: the ring agreed, nothing left to hand off, a full
	// anti-entropy pass without a repair.
	ids := serverIDsOf(c)
	conv, err := converge.Wait(ctx, c, len(c.Proxies()), ids, healed, convergeWithin, logf)
	if err != nil {
		c.Close()
		for _, e := range exits() {
			t.Errorf("a process exited by itself: %v", e)
		}
		t.Fatalf("no convergence within %v of the faults' end: %v", convergeWithin, err)
	}
	toConverge := time.Since(healed)

	// Every client that syncs sees the same lists, holding every
	// acknowledged write.
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	clientStates, err := converge.SyncClients(sctx, func(int) string { return t.TempDir() }, c.ClientEndpoints(), w.Lists(), 3)
	cancel()
	if err != nil {
		t.Fatalf("syncing clients: %v", err)
	}
	clientProblems := converge.CompareClients(converge.Names(len(clientStates)), clientStates, ledger)

	// The verdict: a quorum read of every list through one proxy, judged
	// by the writers' ledger.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	verdict, finals, err := testcluster.Pull(pctx, c.ClientEndpoints()[0], w.Lists(), ledger, 3*time.Second)
	cancel()
	if err != nil {
		t.Fatalf("reading the lists back: %v", err)
	}

	// Every acknowledged write on all N owners, their copies identical.
	if err := c.Close(); err != nil {
		logf("chaos: closing the cluster: %v", err)
	}
	unexpected := exits()
	var stores []testcluster.StoredServer
	for _, s := range c.Servers() {
		got, err := testcluster.ReadStore(s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, got)
	}
	ring := hashring.New(ids, hashring.WithVNodes(conv.VNodes))
	report := testcluster.CheckReplicas(stores, ring, conv.N, ledger)
	clientProblems = append(clientProblems, converge.CompareWithStores(clientStates, stores, ring, conv.N)...)

	// The figures.
	logf("chaos figures (seed %d):", seed)
	logf("  load: %d clients for %v: %d pushes, %d acknowledged, %d refused, %d timed out, %d failovers between proxies",
		clients, healed.Sub(start).Round(time.Second), stats.Attempted, stats.Acked, stats.Refused, stats.TimedOut, stats.Failovers)
	for _, r := range slices.Sorted(maps.Keys(stats.Reasons)) {
		logf("    refused %d× %s", stats.Reasons[r], r)
	}
	logf("  edits by kind, pushed / acknowledged:")
	for _, k := range testcluster.EditKinds {
		logf("    %-8s %6d / %6d", k, stats.Kinds[k].Attempted, stats.Kinds[k].Acked)
	}
	logf("  local edits refused by the list (skipped): %d; pulls by writers: %d answered, %d failed, %d holding what no writer sent",
		stats.Skipped, stats.Pulls, stats.PullsFailed, stats.BadPulls)
	logf("  faults injected: %d", in.total())
	for _, k := range slices.Sorted(maps.Keys(in.counts)) {
		logf("    %s: %d", k, in.counts[k])
	}
	if in.skipped > 0 {
		logf("    leader kills skipped while no leader was agreed: %d", in.skipped)
	}
	logf("  time to converge after the faults: %v (%s)", toConverge.Round(time.Millisecond), conv.Detail)
	logf("  anti-entropy on the leader: %s", conv.AntiEntropy)
	logf("  verdict (quorum read through proxy 0): %v", verdict)
	compacted, kept := 0, 0
	for _, l := range finals {
		if !l.Floor().IsZero() {
			compacted++
		}
		kept += l.Tombstones()
	}
	logf("  compaction: %d of %d lists have forgotten removes past the %v horizon; %d removed items kept in all", compacted, len(finals), horizon, kept)
	logf("  replicas: %v", report)
	logf("  syncing clients: %d clients × %d lists, %d problems", len(clientStates), len(w.Lists()), len(clientProblems))
	for _, s := range stores {
		logf("    server %s: %d lists, %d hints left", s.ID, len(s.Lists), s.Hints)
	}

	for _, e := range unexpected {
		t.Errorf("a process exited by itself: %v", e)
	}
	if !verdict.OK() || verdict.Missing > 0 {
		t.Errorf("verdict: %v", verdict)
		for _, f := range verdict.Named(20) {
			t.Errorf("  %s", f)
		}
	}
	if !report.OK() {
		t.Errorf("replicas: %v", report)
		for _, p := range report.Problems {
			t.Errorf("  %s", p)
		}
	}
	for _, p := range clientProblems {
		t.Errorf("syncing clients: %s", p)
	}
	if stats.Acked == 0 {
		t.Errorf("no write was acknowledged")
	}
}

// syncWriter serialises writes to one writer.
type syncWriter struct {
	mu sync.Mutex
	w  *os.File
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// watchExits collects the children that exit without being asked to,
// logging each with the last lines of its stderr as it exits; the returned
// function, called after Close, returns them.
func watchExits(c *launcher.Cluster, logf func(string, ...any)) func() []error {
	var mu sync.Mutex
	var out []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			e, err := c.NextExit(context.Background())
			if err != nil {
				return // ErrClosed
			}
			logf("chaos: %s (pid %d) exited by itself: %v; its stderr ended:", e.Child, e.PID, e.Err)
			for _, line := range e.Stderr {
				logf("chaos:   | %s", line)
			}
			mu.Lock()
			out = append(out, e)
			mu.Unlock()
		}
	}()
	return func() []error {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

func serverIDsOf(c *launcher.Cluster) []string {
	var ids []string
	for _, s := range c.Servers() {
		ids = append(ids, s.ID)
	}
	return ids
}
