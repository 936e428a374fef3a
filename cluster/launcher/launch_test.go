package launcher

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"shoplist/protocol"
)

// These tests run the launcher with fake roles (fake_test.go), so that they
// check the launcher alone. The real roles are in the scenario tests.

// launchFakes launches a cluster of fake roles.
func launchFakes(t *testing.T, cfg Config) (*Cluster, error) {
	t.Helper()
	cfg.Exe = fakeExe(t)
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Launch(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func serverIDs(c *Cluster) []string {
	var ids []string
	for _, s := range c.Servers() {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestLaunchStartsProxyAndServersAndCloseStopsThem(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	stderr := newSyncBuffer()
	c, err := launchFakes(t, Config{Data: data, Servers: 3, Stderr: stderr})
	must(t, err)
	if got, want := c.ClientEndpoint(), "tcp://127.0.0.1:40000"; got != want {
		t.Errorf("ClientEndpoint = %q, want the proxy's %q", got, want)
	}
	if eps := c.Endpoints(); eps.Backend != "tcp://127.0.0.1:40002" {
		t.Errorf("Endpoints = %+v", eps)
	}
	if fi, err := os.Stat(filepath.Join(data, "proxy")); err != nil || !fi.IsDir() {
		t.Errorf("no proxy directory: %v", err)
	}
	servers := c.Servers()
	if len(servers) != 3 {
		t.Fatalf("%d servers, want 3: %+v", len(servers), servers)
	}
	proxyPID := fakePID(t, filepath.Join(data, "proxy"))
	for _, s := range servers {
		if err := protocol.CheckServerID(s.ID); err != nil {
			t.Errorf("server ID: %v", err)
		}
		if s.Dir != filepath.Join(data, "server-"+s.ID) || !s.Running || s.PID != fakePID(t, s.Dir) {
			t.Errorf("server %+v: want its dir under data, running, with the PID it wrote", s)
		}
		// The launcher passed the backend endpoint the proxy reported.
		stderr.waitFor(t, "[server-"+s.ID+"] server ready: id="+s.ID+" proxy=tcp://127.0.0.1:40002")
	}
	stderr.waitFor(t, "[proxy] proxy ready: client=tcp://127.0.0.1:40000")

	must(t, c.Close())
	for _, s := range c.Servers() {
		if s.Running {
			t.Errorf("server %s still running after Close", s.ID)
		}
		assertGone(t, "server-"+s.ID, s.PID)
		// SIGTERM, not SIGKILL: the child ran its clean shutdown.
		stderr.waitFor(t, "[server-"+s.ID+"] fake server: stopping on terminated")
	}
	assertGone(t, "proxy", proxyPID)
	stderr.waitFor(t, "[proxy] fake proxy: stopping on terminated")
	must(t, c.Close()) // a second Close does nothing
}

func TestLaunchRestartsTheServersItFindsAndAddsMissingOnes(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 3})
	must(t, err)
	first := serverIDs(c)
	must(t, c.Close())

	// A directory that is not a server's is left alone.
	must(t, os.Mkdir(filepath.Join(data, "server-bad id"), 0o755))
	stderr := newSyncBuffer()
	c, err = launchFakes(t, Config{Data: data, Servers: 2, Stderr: stderr})
	must(t, err)
	if got := serverIDs(c); !slices.Equal(got, first) {
		t.Errorf("restart with --servers 2 ran %v, want every existing server %v", got, first)
	}
	stderr.waitFor(t, "skipping "+filepath.Join(data, "server-bad id"))
	must(t, c.Close())

	c, err = launchFakes(t, Config{Data: data, Servers: 4})
	must(t, err)
	got := serverIDs(c)
	if len(got) != 4 {
		t.Fatalf("restart with --servers 4 ran %v, want 4 servers", got)
	}
	for _, id := range first {
		if !slices.Contains(got, id) {
			t.Errorf("restart with --servers 4 ran %v, without existing server %s", got, id)
		}
	}
}

func TestLaunchFailsWhenTheProxyFailsToStart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	_, err := launchFakes(t, Config{Data: data, Servers: 2,
		ProxyArgs: []string{"--fail", "bind tcp://127.0.0.1:5555: address already in use"}})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "proxy" || !errors.Is(err, ErrExited) {
		t.Fatalf("Launch error = %v, want a *ChildError for the proxy matching ErrExited", err)
	}
	if !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("error %q does not quote the proxy's stderr and exit status", err)
	}
	// No server was started for a proxy that is not there.
	entries, _ := filepath.Glob(filepath.Join(data, "server-*", pidFile))
	if len(entries) != 0 {
		t.Errorf("servers started although the proxy failed: %v", entries)
	}
}

func TestLaunchStopsTheOthersWhenAServerFailsToStart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	must(t, os.Mkdir(filepath.Join(data, "server-bad"), 0o755))
	_, err := launchFakes(t, Config{Data: data, Servers: 3,
		ServerArgs: []string{"--fail", "storage: opening data: permission denied", "--only", "bad"}})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "server-bad" || !errors.Is(err, ErrExited) {
		t.Fatalf("Launch error = %v, want a *ChildError for server-bad matching ErrExited", err)
	}
	if !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error %q does not quote the server's stderr", err)
	}
	// Every child that got as far as writing its PID (one stopped early may
	// not have) is gone.
	pids, _ := filepath.Glob(filepath.Join(data, "*", pidFile))
	if !slices.Contains(pids, filepath.Join(data, "proxy", pidFile)) {
		t.Fatalf("pid files %v, want at least the proxy's", pids)
	}
	for _, f := range pids {
		assertGone(t, f, fakePID(t, filepath.Dir(f)))
	}
}

func TestLaunchGivesUpOnAChildThatNeverSaysReady(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	must(t, os.Mkdir(filepath.Join(data, "server-mute"), 0o755))
	start := time.Now()
	_, err := Launch(context.Background(), Config{Data: data, Servers: 2, Listen: "127.0.0.1:0", Exe: fakeExe(t),
		ReadyTimeout: 500 * time.Millisecond, ServerArgs: []string{"--never-ready", "--only", "mute"}})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "server-mute" || !errors.Is(err, ErrNotReady) {
		t.Fatalf("Launch error = %v, want a *ChildError for server-mute matching ErrNotReady", err)
	}
	if d := time.Since(start); d > testTimeout {
		t.Errorf("Launch took %v with a 500ms ready timeout", d)
	}
	assertGone(t, "server-mute", fakePID(t, filepath.Join(data, "server-mute")))
}

func TestLaunchRefusesAnUnusableDataDirectory(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o644))
	_, err := launchFakes(t, Config{Data: filepath.Join(file, "data")})
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Launch in a path under a file: error %v, want one saying it is not a directory", err)
	}
	if _, err := Launch(context.Background(), Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("Launch without a data directory: error %v, want ErrConfig", err)
	}
	if _, err := Launch(context.Background(), Config{Data: t.TempDir(), Listen: "127.0.0.1:65535"}); !errors.Is(err, ErrConfig) {
		t.Errorf("Launch on port 65535 (no room for PUB and backend): error %v, want ErrConfig", err)
	}
}

func TestKillStartAndUnexpectedExitOfServers(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 3})
	must(t, err)
	servers := c.Servers()
	victim, other := servers[0], servers[1]

	must(t, c.KillServer(victim.ID))
	if s := c.Servers()[0]; s.Running {
		t.Fatalf("server %s running after KillServer", s.ID)
	}
	assertGone(t, "killed server", victim.PID)
	if err := c.KillServer(victim.ID); !errors.Is(err, ErrNotRunning) {
		t.Errorf("KillServer of a dead server: %v, want ErrNotRunning", err)
	}
	if err := c.KillServer("nobody"); !errors.Is(err, ErrUnknownServer) {
		t.Errorf("KillServer(nobody): %v, want ErrUnknownServer", err)
	}

	// A crash the launcher did not cause is reported, and the kill it did
	// cause is not: the crash is the first exit NextExit returns.
	must(t, syscall.Kill(other.PID, syscall.SIGUSR1))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	died, err := c.NextExit(ctx)
	must(t, err)
	if died.Child != "server-"+other.ID || died.PID != other.PID || !errors.Is(died, ErrExited) ||
		!strings.Contains(died.Error(), "exit status 3") || !strings.Contains(died.Error(), "fake server: crashing") {
		t.Errorf("NextExit = %v, want server-%s's crash with its status and stderr", died, other.ID)
	}

	ctx, cancel = context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	must(t, c.StartServer(ctx, victim.ID))
	again := c.Servers()[0]
	if again.ID != victim.ID || again.Dir != victim.Dir || !again.Running || again.PID == victim.PID {
		t.Errorf("after StartServer: %+v, want %s running again in %s as a new process", again, victim.ID, victim.Dir)
	}
	if err := c.StartServer(ctx, victim.ID); !errors.Is(err, ErrRunning) {
		t.Errorf("StartServer of a running server: %v, want ErrRunning", err)
	}
	must(t, c.StopServer(victim.ID))
	must(t, c.Close())
	if _, err := c.NextExit(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("NextExit after Close: %v, want ErrClosed", err)
	}
}

func TestKillAndStartProxyKeepsItsEndpointsAndWaitsForTheServers(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	stderr := newSyncBuffer()
	c, err := launchFakes(t, Config{Data: data, Servers: 1, Stderr: stderr})
	must(t, err)
	before := c.Endpoints()
	first := fakePID(t, filepath.Join(data, "proxy"))
	must(t, c.KillProxy(0))
	assertGone(t, "killed proxy", first)
	if err := c.KillProxy(0); !errors.Is(err, ErrNotRunning) {
		t.Errorf("KillProxy of a dead proxy: %v, want ErrNotRunning", err)
	}

	started := make(chan error, 1)
	go func() { started <- c.StartProxy(context.Background(), 0) }()
	// The new proxy is bound on the old endpoints; StartProxy still waits
	// for the server to be welcomed again, which a fake server says on
	// SIGHUP.
	stderr.waitForCount(t, "[proxy] proxy ready: client="+before.Client, 2)
	select {
	case err := <-started:
		t.Fatalf("StartProxy returned (%v) before the server was welcomed again", err)
	default:
	}
	must(t, syscall.Kill(c.Servers()[0].PID, syscall.SIGHUP))
	must(t, <-started)
	if second := fakePID(t, filepath.Join(data, "proxy")); second == first {
		t.Error("StartProxy did not start a new proxy")
	}
	if after := c.Endpoints(); after != before {
		t.Errorf("endpoints changed across a proxy restart: %+v then %+v", before, after)
	}
}
