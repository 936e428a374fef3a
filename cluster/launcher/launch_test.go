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

	"shoplist/cluster/server"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
	"shoplist/testing/fakeroles"
)

// These tests run the launcher with fake roles (package fakeroles), so that
// they check the launcher alone; only TestLaunchReportsAPortInUse starts a
// real proxy. The whole cluster is tested in package integration.

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
	pids, _ := filepath.Glob(filepath.Join(data, "*", fakeroles.PIDFile))
	if !slices.Contains(pids, filepath.Join(data, "proxy", fakeroles.PIDFile)) {
		t.Fatalf("pid files %v, want at least the proxy's", pids)
	}
	for _, f := range pids {
		fakeroles.AssertGone(t, f, fakeroles.PID(t, filepath.Dir(f)))
	}
}

func TestLaunchGivesUpOnAChildThatNeverSaysReady(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	must(t, os.Mkdir(filepath.Join(data, "server-mute"), 0o755))
	start := time.Now()
	_, err := Launch(context.Background(), Config{Data: data, Servers: 2, Listen: "127.0.0.1:0", Exe: fakeroles.Exe(t),
		Admit: fakeroles.NewAdmissions().Admit, ReadyTimeout: 500 * time.Millisecond, ServerArgs: []string{"--never-ready", "--only", "mute"}})
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "server-mute" || !errors.Is(err, ErrNotReady) {
		t.Fatalf("Launch error = %v, want a *ChildError for server-mute matching ErrNotReady", err)
	}
	if d := time.Since(start); d > testTimeout {
		t.Errorf("Launch took %v with a 500ms ready timeout", d)
	}
	fakeroles.AssertGone(t, "server-mute", fakeroles.PID(t, filepath.Join(data, "server-mute")))
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
