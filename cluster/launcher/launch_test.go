package launcher

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shoplist/cluster/proxynode"
	"shoplist/cluster/server"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
	"shoplist/testing/fakeroles"
)

// These tests run the launcher with fake roles (package fakeroles), so that
// they check the launcher alone; only TestLaunchReportsAPortInUse starts a
// real proxy. The whole cluster is tested in package integration.

// withKey returns endpoint with the key of the (fake) proxy whose data
// directory is dir: the endpoint as clients are given it.
func withKey(t *testing.T, dir, endpoint string) string {
	t.Helper()
	key, err := curvekey.ReadPublic(curvekey.PublicPath(curvekey.DirIn(dir), proxynode.KeyName))
	must(t, err)
	return curvekey.JoinEndpoint(endpoint, key)
}

// launchFakes launches a cluster of fake roles.
func launchFakes(t *testing.T, cfg Config) (*Cluster, error) {
	t.Helper()
	cfg.Exe = fakeroles.Exe(t)
	if cfg.Admit == nil {
		cfg.Admit = fakeroles.NewAdmissions().Admit
	}
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

func TestLaunchStartsProxyAndServersAndCloseStopsThem(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	stderr := fakeroles.NewOutput()
	admitted := fakeroles.NewAdmissions()
	c, err := launchFakes(t, Config{Data: data, Servers: 3, Stderr: stderr, Admit: admitted.Admit})
	must(t, err)
	if got, want := c.ClientEndpoint(), withKey(t, proxyDir(data, 0), "tcp://127.0.0.1:40000"); got != want {
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
	proxyPID := fakeroles.PID(t, filepath.Join(data, "proxy"))
	for _, s := range servers {
		if err := protocol.CheckServerID(s.ID); err != nil {
			t.Errorf("server ID: %v", err)
		}
		if s.Dir != filepath.Join(data, "server-"+s.ID) || !s.Running || s.PID != fakeroles.PID(t, s.Dir) {
			t.Errorf("server %+v: want its dir under data, running, with the PID it wrote", s)
		}
		// The launcher passed the backend endpoint the proxy reported
		// (with its key: a fake server refuses an endpoint without).
		stderr.WaitFor(t, "[server-"+s.ID+"] server ready: id="+s.ID+" proxy=tcp://127.0.0.1:40002")
		// Before it started the server, it admitted the key in its
		// directory.
		key, err := curvekey.ReadPublic(server.PublicKeyFile(s.Dir))
		if err != nil || admitted.Keys()[s.ID] != key {
			t.Errorf("server %s admitted with %q, its key file holds %q (%v)", s.ID, admitted.Keys()[s.ID], key, err)
		}
	}
	stderr.WaitFor(t, "[proxy] proxy ready: client=tcp://127.0.0.1:40000")

	must(t, c.Close())
	for _, s := range c.Servers() {
		if s.Running {
			t.Errorf("server %s still running after Close", s.ID)
		}
		fakeroles.AssertGone(t, "server-"+s.ID, s.PID)
		// SIGTERM, not SIGKILL: the child ran its clean shutdown.
		stderr.WaitFor(t, "[server-"+s.ID+"] fake server: stopping on terminated")
	}
	fakeroles.AssertGone(t, "proxy", proxyPID)
	stderr.WaitFor(t, "[proxy] fake proxy: stopping on terminated")
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
	stderr := fakeroles.NewOutput()
	c, err = launchFakes(t, Config{Data: data, Servers: 2, Stderr: stderr})
	must(t, err)
	if got := serverIDs(c); !slices.Equal(got, first) {
		t.Errorf("restart with --servers 2 ran %v, want every existing server %v", got, first)
	}
	stderr.WaitFor(t, "skipping "+filepath.Join(data, "server-bad id"))
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
	entries, _ := filepath.Glob(filepath.Join(data, "server-*", fakeroles.PIDFile))
	if len(entries) != 0 {
		t.Errorf("servers started although the proxy failed: %v", entries)
	}
}

// TestLaunchStartsWithoutAServerThatFailsToStart: one server that exits
// before it is ready is reported, with its stderr, and the cluster starts
// with the others; NextExit does not report it again.
func TestLaunchStartsWithoutAServerThatFailsToStart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	must(t, os.Mkdir(filepath.Join(data, "server-bad"), 0o755))
	stderr := fakeroles.NewOutput()
	c, err := launchFakes(t, Config{Data: data, Servers: 3, Stderr: stderr,
		ServerArgs: []string{"--fail", "storage: opening data: permission denied", "--only", "bad"}})
	if err != nil {
		t.Fatalf("Launch with one server failing: %v, want the cluster started without it", err)
	}
	stderr.WaitFor(t, "[service] server-bad (pid ")
	stderr.WaitFor(t, "storage: opening data: permission denied; the cluster starts without it, with 2 of 3 servers")
	running := 0
	for _, s := range c.Servers() {
		switch {
		case s.ID == "bad" && s.Running:
			t.Errorf("server-bad runs: %+v", s)
		case s.ID != "bad" && !s.Running:
			t.Errorf("server %s does not run: %+v", s.ID, s)
		case s.Running:
			running++
		}
	}
	if running != 2 || len(c.Servers()) != 3 {
		t.Fatalf("servers %+v, want the 2 others running", c.Servers())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if e, err := c.NextExit(ctx); e != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("NextExit = %v, %v; want the failed start reported once, by Launch", e, err)
	}
}

// TestLaunchFailsWhenEveryServerFailsToStart: a start where no server runs
// is the cluster's failure, not one server's: Launch fails, naming them,
// and stops the proxy.
func TestLaunchFailsWhenEveryServerFailsToStart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	_, err := launchFakes(t, Config{Data: data, Servers: 2, ServerArgs: []string{"--fail", "flag provided but not defined: -bogus"}})
	var ce *ChildError
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.Child, "server-") || !errors.Is(err, ErrExited) {
		t.Fatalf("Launch error = %v, want the servers' *ChildErrors matching ErrExited", err)
	}
	if n := strings.Count(err.Error(), "flag provided but not defined"); n != 2 {
		t.Errorf("error %q names %d servers' failures, want 2", err, n)
	}
	pids, _ := filepath.Glob(filepath.Join(data, "*", fakeroles.PIDFile))
	if !slices.Contains(pids, filepath.Join(data, "proxy", fakeroles.PIDFile)) {
		t.Fatalf("pid files %v, want at least the proxy's", pids)
	}
	for _, f := range pids {
		fakeroles.AssertGone(t, f, fakeroles.PID(t, filepath.Dir(f)))
	}
}

// TestLaunchStartsWithoutAServerThatNeverSaysReady: a server not ready in
// time is reported and left running, to join when it can; a proxy not
// ready in time fails the start.
func TestLaunchStartsWithoutAServerThatNeverSaysReady(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	must(t, os.Mkdir(filepath.Join(data, "server-mute"), 0o755))
	stderr := fakeroles.NewOutput()
	start := time.Now()
	c, err := launchFakes(t, Config{Data: data, Servers: 2, Stderr: stderr,
		ReadyTimeout: 500 * time.Millisecond, ServerArgs: []string{"--never-ready", "--only", "mute"}})
	if err != nil {
		t.Fatalf("Launch with a mute server: %v, want the cluster started without it", err)
	}
	if d := time.Since(start); d > testTimeout {
		t.Errorf("Launch took %v with a 500ms ready timeout", d)
	}
	stderr.WaitFor(t, "server-mute (pid ")
	stderr.WaitFor(t, "not ready within 500ms; the cluster starts without it, with 1 of 2 servers")
	if s := serverInfo(t, c, "mute"); !s.Running {
		t.Errorf("the mute server was stopped: %+v", s)
	}

	_, err = Launch(context.Background(), Config{Data: t.TempDir(), Listen: "127.0.0.1:0", Exe: fakeroles.Exe(t),
		ReadyTimeout: 500 * time.Millisecond, ProxyArgs: []string{"--never-ready"}})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "proxy" || !errors.Is(err, ErrNotReady) {
		t.Fatalf("Launch with a mute proxy: %v, want a *ChildError for the proxy matching ErrNotReady", err)
	}
}

// TestLaunchLeavesASetAsideStoreAlone: the directory where a server set
// its corrupt store aside is not a server's.
func TestLaunchLeavesASetAsideStoreAlone(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	aside := filepath.Join(data, "server-s1.corrupt-20250102T030405Z")
	must(t, os.Mkdir(aside, 0o755))
	stderr := fakeroles.NewOutput()
	c, err := launchFakes(t, Config{Data: data, Servers: 1, Stderr: stderr})
	must(t, err)
	stderr.WaitFor(t, "keeping "+aside+" aside")
	if ids := serverIDs(c); len(ids) != 1 || strings.Contains(ids[0], "corrupt") {
		t.Fatalf("servers %v, want one new server and not the aside directory", ids)
	}
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

// TestLaunchReportsAPortInUse: a real proxy that cannot bind makes Launch
// fail with an error naming the proxy and quoting its reason, which is what
// the service prints.
func TestLaunchReportsAPortInUse(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer taken.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err = Launch(ctx, Config{Data: t.TempDir(), Servers: 1, Listen: taken.Addr().String()})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "proxy" || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Launch on a port in use: %v, want a *ChildError for the proxy saying the address is in use", err)
	}
}
