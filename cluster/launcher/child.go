package launcher

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one role process. name, role, cmd and done never change; the
// other fields are guarded by the owning Cluster's mu.
type child struct {
	name string // "proxy" or "server-<id>"
	role string // RoleProxy or RoleServer
	cmd  *exec.Cmd
	tail tail          // last lines of its stderr
	done chan struct{} // closed once the process has exited and been reaped

	ready    int            // ready lines printed so far
	addrs    proxyAddrs     // a proxy's addresses, from its ready line
	welcomed map[string]int // a server's welcomes so far, by proxy backend endpoint
	exited   bool
	exitErr  error // cmd.Wait's result, once exited
	stopping bool  // the launcher asked it to stop, so its exit is expected
	paused   bool  // the launcher sent it SIGSTOP and no SIGCONT since
}

// pid returns the child's process ID.
func (ch *child) pid() int { return ch.cmd.Process.Pid }

// failure returns the error reporting that ch exited or was not ready.
func (ch *child) failure(err error) *ChildError {
	return &ChildError{Child: ch.name, PID: ch.pid(), Err: err, Stderr: ch.tail.last()}
}

// exitFailure returns the error reporting that ch exited; c.mu is held.
func (ch *child) exitFailure() *ChildError {
	status := "exit status 0"
	if ch.exitErr != nil {
		status = ch.exitErr.Error()
	}
	return ch.failure(fmt.Errorf("%w (%s)", ErrExited, status))
}

// spawn starts the binary in role with args, and the goroutines that read
// its output and reap it. c.mu is held, so that Close cannot be waiting for
// c.wg yet.
func (c *Cluster) spawn(name, role string, args []string) (*child, error) {
	cmd := exec.Command(c.cfg.Exe, args...)
	cmd.Env = append(os.Environ(), RoleEnv+"="+role)
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cluster: starting %s: %w", name, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("cluster: starting %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: starting %s: %w", name, err)
	}
	ch := &child{name: name, role: role, cmd: cmd, done: make(chan struct{}), welcomed: map[string]int{}}
	prefix := "[" + name + "] "
	var pipes sync.WaitGroup
	pipes.Add(2)
	c.wg.Add(3)
	go func() {
		defer c.wg.Done()
		defer pipes.Done()
		readLines(stdout, func(s string) {
			c.sink.line(prefix, s)
			c.sawStdout(ch, s)
		})
	}()
	go func() {
		defer c.wg.Done()
		defer pipes.Done()
		readLines(stderr, func(s string) {
			c.sink.line(prefix, s)
			ch.tail.add(s)
		})
	}()
	go func() {
		defer c.wg.Done()
		pipes.Wait() // Wait closes the pipes, so it must come after the reads
		c.sawExit(ch, cmd.Wait())
		close(ch.done)
	}()
	return ch, nil
}

// sawStdout counts ch's ready lines.
func (c *Cluster) sawStdout(ch *child, line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ch.role {
	case RoleProxy:
		addrs, ok := parseProxyReady(line)
		if !ok {
			return
		}
		ch.addrs = addrs
		for _, p := range c.proxies {
			if p.ch == ch {
				p.addrs = addrs // the same on every start but the first
			}
		}
	case RoleServer:
		id, ep, ok := parseServerReady(line)
		if !ok {
			return
		}
		if want := strings.TrimPrefix(ch.name, serverDirPrefix); id != want {
			// Not the server the launcher meant to start: never ready.
			c.note(fmt.Sprintf("%s says it is server %s; its data directory belongs to %s", ch.name, id, want))
			return
		}
		ch.welcomed[ep]++
	}
	ch.ready++
	c.notifyLocked()
}

// sawExit records ch's exit, and queues it for NextExit unless the launcher
// asked for it.
func (c *Cluster) sawExit(ch *child, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch.exited, ch.exitErr = true, err
	if !ch.stopping && !c.closed {
		c.exits = append(c.exits, ch.exitFailure())
	}
	c.notifyLocked()
}

// stop sends sig to ch (marked as stopping by the caller) and waits for it
// to exit, sending SIGKILL after the grace period. It reports a child that
// needed SIGKILL, or exited with an error, after SIGTERM.
func (c *Cluster) stop(ch *child, sig syscall.Signal) error {
	if err := ch.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		// Never leave it running: kill it and wait for it all the same.
		ch.cmd.Process.Kill()
		<-ch.done
		return fmt.Errorf("cluster: signalling %s: %w", ch.name, err)
	}
	c.mu.Lock()
	paused := ch.paused
	ch.paused = false
	c.mu.Unlock()
	if paused {
		// A stopped process acts on SIGTERM only once it runs again.
		ch.cmd.Process.Signal(syscall.SIGCONT) // it may be gone already; done tells
	}
	if sig == syscall.SIGKILL {
		<-ch.done
		return nil
	}
	grace := time.NewTimer(c.cfg.StopGrace)
	defer grace.Stop()
	select {
	case <-ch.done:
	case <-grace.C:
		ch.cmd.Process.Kill() // it may exit meanwhile; done tells
		<-ch.done
		return fmt.Errorf("cluster: %s did not exit within %v of %v; killed", ch.name, c.cfg.StopGrace, sig)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.exitErr != nil {
		return fmt.Errorf("cluster: %s after %v: %w", ch.name, sig, ch.exitErr)
	}
	return nil
}
