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
)

// Launcher tests of a group of three (fake) proxies. Fakes bind nothing, so
// fixed ports are safe here and make every address predictable: proxy i
// listens on 41000+10*i and its admin API on 41004+10*i.

const fakeGroupListen = "127.0.0.1:41000"

func TestLaunchThreeProxiesJoinsThemAndConnectsServersToAll(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	stderr := newSyncBuffer()
	c, err := launchFakes(t, Config{Data: data, Servers: 2, Proxies: 3, Listen: fakeGroupListen, Stderr: stderr})
	must(t, err)
	want := []string{"tcp://127.0.0.1:41000", "tcp://127.0.0.1:41010", "tcp://127.0.0.1:41020"}
	if got := c.ClientEndpoints(); !slices.Equal(got, want) {
		t.Errorf("ClientEndpoints = %v, want %v", got, want)
	}
	for i, p := range c.Proxies() {
		if p.Index != i || !p.Running || p.Dir != proxyDir(data, i) || p.PID != fakePID(t, p.Dir) {
			t.Errorf("proxy %d: %+v", i, p)
		}
		if wantAdmin := []string{"127.0.0.1:41004", "127.0.0.1:41014", "127.0.0.1:41024"}[i]; p.Admin != wantAdmin {
			t.Errorf("proxy %d admin %q, want %q", i, p.Admin, wantAdmin)
		}
	}
	// Proxy 0 bootstraps; the others join it.
	stderr.waitFor(t, "[proxy-1] fake proxy: joining 127.0.0.1:41004\n")
	stderr.waitFor(t, "[proxy-2] fake proxy: joining 127.0.0.1:41004\n")
	if strings.Contains(stderr.String(), "[proxy] fake proxy: joining") {
		t.Errorf("proxy 0 joined someone:\n%s", stderr)
	}
	// Every server was given every backend, and Launch waited for all.
	for _, s := range c.Servers() {
		for _, ep := range []string{"41002", "41012", "41022"} {
			stderr.waitFor(t, "[server-"+s.ID+"] server ready: id="+s.ID+" proxy=tcp://127.0.0.1:"+ep)
		}
	}

	// A restarted proxy gets its old addresses and joins through the
	// others; StartProxy waits until every server is welcomed by it again.
	old := c.Proxies()[1]
	must(t, c.KillProxy(1))
	if c.Proxies()[1].Running {
		t.Fatal("proxy 1 running after KillProxy(1)")
	}
	started := make(chan error, 1)
	go func() { started <- c.StartProxy(context.Background(), 1) }()
	stderr.waitFor(t, "[proxy-1] fake proxy: joining 127.0.0.1:41004,127.0.0.1:41024\n")
	stderr.waitForCount(t, "[proxy-1] proxy ready: client=tcp://127.0.0.1:41010", 2)
	select {
	case err := <-started:
		t.Fatalf("StartProxy returned (%v) before the servers were welcomed again", err)
	default:
	}
	for _, s := range c.Servers() {
		must(t, syscall.Kill(s.PID, syscall.SIGHUP))
	}
	must(t, <-started)
	if now := c.Proxies()[1]; now.PID == old.PID || now.Endpoints != old.Endpoints || now.Admin != old.Admin {
		t.Errorf("after the restart proxy 1 is %+v, was %+v", now, old)
	}
	if err := c.StartProxy(context.Background(), 1); !errors.Is(err, ErrRunning) {
		t.Errorf("StartProxy of a running proxy: %v, want ErrRunning", err)
	}
	if err := c.KillProxy(3); !errors.Is(err, ErrUnknownProxy) {
		t.Errorf("KillProxy(3) of 3 proxies: %v, want ErrUnknownProxy", err)
	}
	must(t, c.Close())
}

func TestLaunchRestartsAGroupAllAtOnce(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 1, Proxies: 3, Listen: fakeGroupListen})
	must(t, err)
	must(t, c.Close())
	// As a real proxy 0 leaves Raft state behind.
	must(t, os.Mkdir(filepath.Join(data, "proxy", "raft"), 0o755))

	// The directories say three proxies, whatever Proxies says; each of
	// the others is told every peer.
	stderr := newSyncBuffer()
	c, err = launchFakes(t, Config{Data: data, Servers: 1, Listen: fakeGroupListen, Stderr: stderr})
	must(t, err)
	if n := len(c.Proxies()); n != 3 {
		t.Fatalf("%d proxies restarted, want the 3 found", n)
	}
	stderr.waitFor(t, "[proxy-1] fake proxy: joining 127.0.0.1:41004,127.0.0.1:41024\n")
	stderr.waitFor(t, "[proxy-2] fake proxy: joining 127.0.0.1:41004,127.0.0.1:41014\n")
	must(t, c.Close())
	if strings.Contains(stderr.String(), "[proxy] fake proxy: joining") {
		t.Errorf("proxy 0 joined someone:\n%s", stderr)
	}

	// Never two.
	if _, err := launchFakes(t, Config{Data: t.TempDir(), Proxies: 2}); !errors.Is(err, ErrConfig) {
		t.Errorf("two proxies: %v, want ErrConfig", err)
	}
	// A group's Raft configuration records its ports: free ones would not do.
	if _, err := launchFakes(t, Config{Data: data, Servers: 1, Listen: "127.0.0.1:0"}); !errors.Is(err, ErrConfig) {
		t.Errorf("restarting a group on port 0: %v, want ErrConfig", err)
	}
}

func TestPauseAndResumeServerAndCloseAPausedOne(t *testing.T) {
	t.Parallel()
	stderr := newSyncBuffer()
	c, err := launchFakes(t, Config{Data: t.TempDir(), Servers: 2, Stderr: stderr})
	must(t, err)
	s := c.Servers()[0]
	must(t, c.PauseServer(s.ID))
	if !processStopped(s.PID) || !c.Servers()[0].Paused {
		t.Fatalf("server %s not stopped after PauseServer", s.ID)
	}
	if err := c.PauseServer(s.ID); !errors.Is(err, ErrPaused) {
		t.Errorf("PauseServer twice: %v, want ErrPaused", err)
	}
	must(t, c.ResumeServer(s.ID))
	if err := c.ResumeServer(s.ID); !errors.Is(err, ErrNotPaused) {
		t.Errorf("ResumeServer of a running server: %v, want ErrNotPaused", err)
	}
	// SIGHUP is handled again once it runs: it prints its ready line.
	must(t, syscall.Kill(s.PID, syscall.SIGHUP))
	stderr.waitForCount(t, "[server-"+s.ID+"] server ready:", 2)

	// A paused child still stops cleanly on Close: it gets SIGCONT after
	// SIGTERM.
	must(t, c.PauseServer(s.ID))
	start := time.Now()
	must(t, c.Close())
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v with a paused server", d)
	}
	stderr.waitFor(t, "[server-"+s.ID+"] fake server: stopping on terminated")
	assertGone(t, "paused server", s.PID)
}

func TestAddServerStartsANewMemberInItsOwnDirectory(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 2})
	must(t, err)
	before := serverIDs(c)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	id, err := c.AddServer(ctx)
	must(t, err)
	if slices.Contains(before, id) {
		t.Fatalf("AddServer reused ID %s", id)
	}
	s := serverInfo(t, c, id)
	if s.Dir != filepath.Join(data, "server-"+id) || !s.Running || s.PID != fakePID(t, s.Dir) {
		t.Errorf("new server %+v", s)
	}
	if got := serverIDs(c); len(got) != 3 || !slices.IsSorted(got) {
		t.Errorf("servers after AddServer: %v, want 3 sorted", got)
	}
}

func TestServeWithThreeProxiesKeepsRunningUntilTheLastProxyDies(t *testing.T) {
	t.Parallel()
	cfg := Config{Data: t.TempDir(), Servers: 1, Proxies: 3, Listen: fakeGroupListen, Exe: fakeExe(t), Stderr: newSyncBuffer()}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{data: cfg.Data, stdout: newSyncBuffer(), stderr: cfg.Stderr.(*syncBuffer), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = Serve(ctx, cfg, s.stdout)
	}()
	t.Cleanup(func() {
		cancel()
		s.wait()
	})
	s.stdout.waitFor(t, "\n")
	if got, want := s.stdout.String(), "ready: clients connect to tcp://127.0.0.1:41000,tcp://127.0.0.1:41010,tcp://127.0.0.1:41020\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	must(t, syscall.Kill(fakePID(t, proxyDir(s.data, 0)), syscall.SIGUSR1))
	s.stderr.waitFor(t, "the cluster keeps running with 2 of 3 proxies")
	must(t, syscall.Kill(fakePID(t, proxyDir(s.data, 2)), syscall.SIGUSR1))
	s.stderr.waitFor(t, "the cluster keeps running with 1 of 3 proxies")
	must(t, syscall.Kill(fakePID(t, proxyDir(s.data, 1)), syscall.SIGUSR1))
	var ce *ChildError
	if err := s.wait(); !errors.As(err, &ce) || ce.Child != "proxy-1" {
		t.Fatalf("Serve after every proxy died: %v, want a *ChildError naming proxy-1", err)
	}
}
