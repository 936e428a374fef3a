package fakeroles

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitTimeout bounds every wait of Output.
const waitTimeout = 20 * time.Second

// Output is an io.Writer that a test can wait on: given as a launched
// cluster's Config.Stderr, it collects what the fakes and the launcher
// print. Its methods are safe for concurrent use.
type Output struct {
	mu      sync.Mutex    // guards buf and changed
	buf     bytes.Buffer  // everything written so far
	changed chan struct{} // closed and replaced on every Write
}

// NewOutput returns an empty Output.
func NewOutput() *Output { return &Output{changed: make(chan struct{})} }

// Write appends p and wakes the waiters.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.changed)
	o.changed = make(chan struct{})
	return o.buf.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitFor waits until the output contains substr, and fails t if it does
// not within 20s.
func (o *Output) WaitFor(t testing.TB, substr string) {
	t.Helper()
	o.WaitForCount(t, substr, 1)
}

// WaitForCount waits until the output contains substr n times, and fails t
// if it does not within 20s.
func (o *Output) WaitForCount(t testing.TB, substr string, n int) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		found, changed := strings.Count(o.buf.String(), substr) >= n, o.changed
		o.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("not %d × %q within %v in:\n%s", n, substr, waitTimeout, o.String())
		}
	}
}

// PID returns the PID the fake with data directory dir wrote there.
func PID(t testing.TB, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, PIDFile))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// AssertGone fails t unless no process has the PID (a zombie the launcher
// did not reap still has one).
func AssertGone(t testing.TB, what string, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("%s (pid %d) still exists after the launcher returned (kill 0: %v)", what, pid, err)
	}
}
