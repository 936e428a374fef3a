package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"shoplist/cluster/launcher"
	"shoplist/testing/fakeroles"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// launchFakes launches a proxy and n servers of fake roles, closed when the
// test ends.
func launchFakes(t *testing.T, n int, stderr *fakeroles.Output) *launcher.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := launcher.Launch(ctx, launcher.Config{Data: t.TempDir(), Servers: n, Listen: "127.0.0.1:0",
		Exe: fakeroles.Exe(t), Admit: fakeroles.NewAdmissions().Admit, Stderr: stderr})
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// assertNoExit fails unless c reports no unexpected exit for a moment.
func assertNoExit(t *testing.T, c *launcher.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if died, err := c.NextExit(ctx); err == nil {
		t.Errorf("NextExit = %v, want no unexpected exit", died)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// recorder is a Cluster that records what it is asked.
type recorder struct{ calls []string }

func (r *recorder) Signal(name string, sig syscall.Signal) error {
	r.calls = append(r.calls, fmt.Sprintf("%v %s", sig, name))
	return nil
}

func (r *recorder) Restart(_ context.Context, name string) error {
	r.calls = append(r.calls, "restart "+name)
	return nil
}

func (r *recorder) Servers() []launcher.ServerInfo {
	return []launcher.ServerInfo{{ID: "s1", PID: os.Getpid(), Running: true}}
}

func (r *recorder) Proxies() []launcher.ProxyInfo { return nil }

func TestEachFaultIsTheSignalOrRestartOfOneChild(t *testing.T) {
	r := &recorder{}
	ctx := context.Background()
	must(t, KillServer(r, "s1"))
	must(t, StopServer(r, "s1"))
	must(t, ResumeServer(r, "s1"))
	must(t, StartServer(ctx, r, "s1"))
	must(t, KillProxy(r, 0))
	must(t, StopProxy(r, 2))
	must(t, ResumeProxy(r, 1))
	must(t, StartProxy(ctx, r, 1))
	want := []string{
		"killed server-s1", "terminated server-s1", "continued server-s1", "restart server-s1",
		"killed proxy", "terminated proxy-2", "continued proxy-1", "restart proxy-1",
	}
	if !slices.Equal(r.calls, want) {
		t.Errorf("calls %q, want %q", r.calls, want)
	}
}

func TestPauseFailsWhenTheChildIsGone(t *testing.T) {
	// This process never stops; it runs no longer by the launcher's
	// account, as a child that exited after SIGSTOP was sent.
	err := waitStopped("s1", func() (int, bool) { return os.Getpid(), false })
	if !errors.Is(err, launcher.ErrNotRunning) {
		t.Errorf("waitStopped of a child gone: %v, want ErrNotRunning", err)
	}
}

func TestPauseReturnsOnceStoppedAndResumeLetsItRun(t *testing.T) {
	t.Parallel()
	stderr := fakeroles.NewOutput()
	c := launchFakes(t, 2, stderr)
	s := c.Servers()[0]
	must(t, PauseServer(c, s.ID))
	if !Stopped(s.PID) || !c.Servers()[0].Paused {
		t.Fatalf("server %s not stopped after PauseServer", s.ID)
	}
	if err := PauseServer(c, s.ID); !errors.Is(err, launcher.ErrPaused) {
		t.Errorf("PauseServer twice: %v, want ErrPaused", err)
	}
	must(t, ResumeServer(c, s.ID))
	// SIGHUP is handled again once it runs: it prints its ready line.
	must(t, syscall.Kill(s.PID, syscall.SIGHUP))
	stderr.WaitForCount(t, "[server-"+s.ID+"] server ready:", 2)

	p := c.Proxies()[0]
	must(t, PauseProxy(c, 0))
	if !Stopped(p.PID) || !c.Proxies()[0].Paused {
		t.Fatalf("proxy not stopped after PauseProxy")
	}
	must(t, ResumeProxy(c, 0))
	if err := ResumeProxy(c, 0); !errors.Is(err, launcher.ErrNotPaused) {
		t.Errorf("ResumeProxy of a running proxy: %v, want ErrNotPaused", err)
	}
	if err := PauseProxy(c, 1); !errors.Is(err, launcher.ErrUnknownProxy) {
		t.Errorf("PauseProxy(1) of one proxy: %v, want ErrUnknownProxy", err)
	}
	assertNoExit(t, c)
}

func TestKillStopAndStartServersAndProxies(t *testing.T) {
	t.Parallel()
	stderr := fakeroles.NewOutput()
	c := launchFakes(t, 2, stderr)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	victim := c.Servers()[0]

	must(t, KillServer(c, victim.ID))
	fakeroles.AssertGone(t, "killed server", victim.PID)
	if err := PauseServer(c, victim.ID); !errors.Is(err, launcher.ErrNotRunning) {
		t.Errorf("PauseServer of a killed server: %v, want ErrNotRunning", err)
	}
	must(t, StartServer(ctx, c, victim.ID))
	again := c.Servers()[0]
	if again.ID != victim.ID || !again.Running || again.PID == victim.PID {
		t.Errorf("after StartServer: %+v, want %s running again as a new process", again, victim.ID)
	}
	must(t, StopServer(c, victim.ID))
	stderr.WaitFor(t, "[server-"+victim.ID+"] fake server: stopping on terminated")
	fakeroles.AssertGone(t, "stopped server", again.PID)
	must(t, StartServer(ctx, c, victim.ID))

	// A proxy started again waits for every server to be welcomed by it,
	// which a fake server says on SIGHUP.
	for i, stop := range []func(Cluster, int) error{KillProxy, StopProxy} {
		before := c.Proxies()[0]
		must(t, stop(c, 0))
		fakeroles.AssertGone(t, "proxy", before.PID)
		started := make(chan error, 1)
		go func() { started <- StartProxy(ctx, c, 0) }()
		stderr.WaitForCount(t, "[proxy] proxy ready: client="+before.Endpoints.ClientEndpoint(), i+2)
		for _, s := range c.Servers() {
			must(t, syscall.Kill(s.PID, syscall.SIGHUP))
		}
		must(t, <-started)
		if now := c.Proxies()[0]; !now.Running || now.PID == before.PID || now.Endpoints != before.Endpoints {
			t.Errorf("after StartProxy the proxy is %+v, was %+v", now, before)
		}
	}
	stderr.WaitFor(t, "[proxy] fake proxy: stopping on terminated")
	assertNoExit(t, c)
}
