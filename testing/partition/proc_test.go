//go:build partition

package partition

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one process the test started in a namespace: a proxy, a server
// or a client group. Its stdout lines go to the log and to whoever waits
// for one (waitLine); its stderr to the log.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and been reaped

	mu       sync.Mutex
	lines    []string      // stdout lines not yet taken by waitLine
	newLine  chan struct{} // closed and replaced on each line
	exitErr  error
	stopping bool // the test asked it to stop
}

// logSink is where every process's output goes, line by line.
type logSink interface {
	line(prefix, s string)
}

// startIn starts bin with args in namespace ns (`ip netns exec NS BIN
// ARGS`, which execs bin: the process ID is bin's), with env added to the
// test's environment. A process whose test dies is killed by the kernel.
func startIn(ns, name string, sink logSink, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), newLine: make(chan struct{})}
	return p, p.start(sink, stdout, stderr)
}

// startWithStdin is startIn for a process the test talks to on its stdin.
func startWithStdin(ns, name string, sink logSink, env []string, bin string, args ...string) (*proc, io.WriteCloser, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), newLine: make(chan struct{})}
	return p, stdin, p.start(sink, stdout, stderr)
}

func (p *proc) start(sink logSink, stdout, stderr io.Reader) error {
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	prefix := "[" + p.name + "] "
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			sink.line(prefix, sc.Text())
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.newLine)
			p.newLine = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			sink.line(prefix, sc.Text())
		}
	}()
	go func() {
		pipes.Wait()
		err := p.cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return nil
}

// pid returns the process ID.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLine waits until the process prints a line starting with one of
// prefixes, taking it and every line before it, or until ctx ends or the
// process exits.
func (p *proc) waitLine(ctx context.Context, prefixes ...string) (string, error) {
	for {
		p.mu.Lock()
		for i, l := range p.lines {
			for _, prefix := range prefixes {
				if strings.HasPrefix(l, prefix) {
					p.lines = p.lines[i+1:]
					p.mu.Unlock()
					return l, nil
				}
			}
		}
		p.lines = p.lines[:0]
		wake := p.newLine
		p.mu.Unlock()
		select {
		case <-wake:
		case <-p.done:
			p.mu.Lock()
			err := p.exitErr
			p.mu.Unlock()
			return "", fmt.Errorf("%s exited (%v) before saying %q", p.name, err, prefixes)
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not say %q: %w", p.name, prefixes, ctx.Err())
		}
	}
}

// stop sends SIGTERM and waits for the process to exit, then SIGKILL
// after grace. It returns the exit error of a process that had exited
// without being asked to (a crash), or says it had to be killed.
func (p *proc) stop(grace time.Duration) error {
	if err := p.crashed(); err != nil {
		return err
	}
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, grace)
	}
	return nil
}

// crashed returns why the process exited if it did so without being asked
// to stop; nil while it runs or once asked.
func (p *proc) crashed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || !p.exited() {
		return nil
	}
	status := "exit status 0"
	if p.exitErr != nil {
		status = p.exitErr.Error()
	}
	return fmt.Errorf("%s (pid %d) exited by itself (%s)", p.name, p.pid(), status)
}
