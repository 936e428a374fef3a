package launcher

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"shoplist/testing/fakeroles"
)

// Tests of Signal and Restart, with fake roles. Package faults tests that
// its Pause functions return only once the child's threads are all stopped.

func TestKillRestartAndUnexpectedExitOfServers(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 3})
	must(t, err)
	servers := c.Servers()
	victim, other := servers[0], servers[1]

	must(t, c.Signal(ServerName(victim.ID), syscall.SIGKILL))
	if s := c.Servers()[0]; s.Running {
		t.Fatalf("server %s running after SIGKILL", s.ID)
	}
	fakeroles.AssertGone(t, "killed server", victim.PID)
	if err := c.Signal(ServerName(victim.ID), syscall.SIGKILL); !errors.Is(err, ErrNotRunning) {
		t.Errorf("SIGKILL to a dead server: %v, want ErrNotRunning", err)
	}
	if err := c.Signal(ServerName("nobody"), syscall.SIGKILL); !errors.Is(err, ErrUnknownServer) {
		t.Errorf("SIGKILL to server-nobody: %v, want ErrUnknownServer", err)
	}
	if err := c.Signal(ServerName(other.ID), syscall.SIGHUP); err == nil {
		t.Error("Signal sent SIGHUP, want it refused")
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
	must(t, c.Restart(ctx, ServerName(victim.ID)))
	again := c.Servers()[0]
	if again.ID != victim.ID || again.Dir != victim.Dir || !again.Running || again.PID == victim.PID {
		t.Errorf("after Restart: %+v, want %s running again in %s as a new process", again, victim.ID, victim.Dir)
	}
	if err := c.Restart(ctx, ServerName(victim.ID)); !errors.Is(err, ErrRunning) {
		t.Errorf("Restart of a running server: %v, want ErrRunning", err)
	}
	must(t, c.Signal(ServerName(victim.ID), syscall.SIGTERM))
	must(t, c.Close())
	if _, err := c.NextExit(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("NextExit after Close: %v, want ErrClosed", err)
	}
}

func TestKillAndRestartProxyKeepsItsEndpointsAndWaitsForTheServers(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	stderr := fakeroles.NewOutput()
	c, err := launchFakes(t, Config{Data: data, Servers: 1, Stderr: stderr})
	must(t, err)
	before := c.Endpoints()
	first := fakeroles.PID(t, filepath.Join(data, "proxy"))
	must(t, c.Signal(ProxyName(0), syscall.SIGKILL))
	fakeroles.AssertGone(t, "killed proxy", first)
	if err := c.Signal(ProxyName(0), syscall.SIGKILL); !errors.Is(err, ErrNotRunning) {
		t.Errorf("SIGKILL to a dead proxy: %v, want ErrNotRunning", err)
	}

	started := make(chan error, 1)
	go func() { started <- c.Restart(context.Background(), ProxyName(0)) }()
	// The new proxy is bound on the old endpoints; Restart still waits
	// for the server to be welcomed again, which a fake server says on
	// SIGHUP.
	stderr.WaitForCount(t, "[proxy] proxy ready: client="+before.Client, 2)
	select {
	case err := <-started:
		t.Fatalf("Restart returned (%v) before the server was welcomed again", err)
	default:
	}
	must(t, syscall.Kill(c.Servers()[0].PID, syscall.SIGHUP))
	must(t, <-started)
	if second := fakeroles.PID(t, filepath.Join(data, "proxy")); second == first {
		t.Error("Restart did not start a new proxy")
	}
	if after := c.Endpoints(); after != before {
		t.Errorf("endpoints changed across a proxy restart: %+v then %+v", before, after)
	}
}

func TestPauseAndResumeServerAndCloseAPausedOne(t *testing.T) {
	t.Parallel()
	stderr := fakeroles.NewOutput()
	c, err := launchFakes(t, Config{Data: t.TempDir(), Servers: 2, Stderr: stderr})
	must(t, err)
	s := c.Servers()[0]
	must(t, c.Signal(ServerName(s.ID), syscall.SIGSTOP))
	if !c.Servers()[0].Paused {
		t.Fatalf("server %s not paused after SIGSTOP", s.ID)
	}
	if err := c.Signal(ServerName(s.ID), syscall.SIGSTOP); !errors.Is(err, ErrPaused) {
		t.Errorf("SIGSTOP twice: %v, want ErrPaused", err)
	}
	must(t, c.Signal(ServerName(s.ID), syscall.SIGCONT))
	if err := c.Signal(ServerName(s.ID), syscall.SIGCONT); !errors.Is(err, ErrNotPaused) {
		t.Errorf("SIGCONT to a running server: %v, want ErrNotPaused", err)
	}
	// SIGHUP is handled again once it runs: it prints its ready line.
	must(t, syscall.Kill(s.PID, syscall.SIGHUP))
	stderr.WaitForCount(t, "[server-"+s.ID+"] server ready:", 2)

	// A paused child still stops cleanly on Close: it gets SIGCONT after
	// SIGTERM.
	must(t, c.Signal(ServerName(s.ID), syscall.SIGSTOP))
	start := time.Now()
	must(t, c.Close())
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v with a paused server", d)
	}
	stderr.WaitFor(t, "[server-"+s.ID+"] fake server: stopping on terminated")
	fakeroles.AssertGone(t, "paused server", s.PID)
}
