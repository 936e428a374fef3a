package launcher

import (
	"fmt"
	"strings"
	"syscall"
)

// Signal sends sig to the running process of the child called name (see
// [ServerName] and [ProxyName]) and keeps the launcher's account of that
// child true. The service never calls it: it is the seam through which
// tests inject faults (package shoplist/testing/faults).
//
//   - SIGKILL (a crash) and SIGTERM (a clean shutdown) ask the child to
//     exit, so NextExit does not report its exit. Signal returns once it
//     has exited; as Close does, it sends SIGKILL when the child outlives
//     Config.StopGrace after SIGTERM, and reports that or an error exit.
//   - SIGSTOP pauses the child, as a hung process: it keeps its sockets but
//     answers nothing. It is Paused in Servers and Proxies, readiness waits
//     and Statuses leave it out, and Close resumes it to stop it. The
//     kernel stops its threads shortly after Signal returns.
//   - SIGCONT lets a paused child run again.
//
// Other signals are refused. A name that is no child's fails with
// ErrUnknownServer or ErrUnknownProxy, a child that does not run with
// ErrNotRunning, SIGSTOP to a paused child with ErrPaused and SIGCONT to
// one that is not with ErrNotPaused.
func (c *Cluster) Signal(name string, sig syscall.Signal) error {
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM:
		return c.stopNamed(name, sig)
	case syscall.SIGSTOP:
		return c.pause(name)
	case syscall.SIGCONT:
		return c.resume(name)
	}
	return fmt.Errorf("cluster: %v to %s: want SIGKILL, SIGTERM, SIGSTOP or SIGCONT", sig, name)
}

// childNamedLocked returns the current process of the child called name
// (nil before its first start) and who, how errors about pausing it name
// it: a server by its ID, a proxy by its name. c.mu is held.
func (c *Cluster) childNamedLocked(name string) (ch *child, who string, err error) {
	if id, ok := strings.CutPrefix(name, serverDirPrefix); ok {
		m, err := c.memberLocked(id)
		if err != nil {
			return nil, "", err
		}
		return m.ch, m.id, nil
	}
	p, err := c.proxyNamedLocked(name)
	if err != nil {
		return nil, "", err
	}
	return p.ch, p.name, nil
}

// stopNamed marks the child called name as asked to stop, sends it sig and
// waits for it (see stop).
func (c *Cluster) stopNamed(name string, sig syscall.Signal) error {
	c.mu.Lock()
	ch, _, err := c.childNamedLocked(name)
	if err == nil {
		err = c.markStoppingLocked(ch)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.stop(ch, sig)
}

// markStoppingLocked marks ch as asked to stop, so its exit is not reported
// as unexpected; c.mu is held.
func (c *Cluster) markStoppingLocked(ch *child) error {
	switch {
	case c.closed:
		return ErrClosed
	case ch == nil:
		return ErrNotRunning
	case ch.exited:
		return fmt.Errorf("%w: %s", ErrNotRunning, ch.name)
	}
	ch.stopping = true
	return nil
}

// pause marks the child called name as paused and sends it SIGSTOP.
func (c *Cluster) pause(name string) error {
	c.mu.Lock()
	ch, who, err := c.childNamedLocked(name)
	switch {
	case err != nil:
	case c.closed:
		err = ErrClosed
	case ch == nil || ch.exited:
		err = fmt.Errorf("%w: %s", ErrNotRunning, who)
	case ch.paused:
		err = fmt.Errorf("%w: %s is paused already", ErrPaused, who)
	default:
		ch.paused = true
		c.notifyLocked()
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := ch.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("cluster: pausing %s: %w", who, err)
	}
	return nil
}

// resume marks the paused child called name as running and sends it
// SIGCONT.
func (c *Cluster) resume(name string) error {
	c.mu.Lock()
	ch, who, err := c.childNamedLocked(name)
	switch {
	case err != nil:
	case c.closed:
		err = ErrClosed
	case ch == nil || ch.exited:
		err = fmt.Errorf("%w: %s", ErrNotRunning, who)
	case !ch.paused:
		err = fmt.Errorf("%w: %s is not paused", ErrNotPaused, who)
	default:
		ch.paused = false
		c.notifyLocked()
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := ch.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("cluster: resuming %s: %w", who, err)
	}
	return nil
}
