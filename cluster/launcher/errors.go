package launcher

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, wrapped with detail; test them with errors.Is.
var (
	// ErrExited means a child process exited when it was not asked to.
	ErrExited = errors.New("cluster: child exited")
	// ErrNotReady means a child did not say it was ready in time.
	ErrNotReady = errors.New("cluster: child not ready in time")
	// ErrUnknownServer means no server of the cluster has that ID.
	ErrUnknownServer = errors.New("cluster: unknown server")
	// ErrUnknownProxy means the cluster has no proxy of that index.
	ErrUnknownProxy = errors.New("cluster: unknown proxy")
	// ErrPaused means a paused child was asked to pause.
	ErrPaused = errors.New("cluster: child paused")
	// ErrNotPaused means a child that is not paused was asked to resume.
	ErrNotPaused = errors.New("cluster: child not paused")
	// ErrRunning means a child that is already running was asked to start.
	ErrRunning = errors.New("cluster: child already running")
	// ErrNotRunning means a child that is not running was asked to stop.
	ErrNotRunning = errors.New("cluster: child not running")
	// ErrClosed means the cluster has been closed.
	ErrClosed = errors.New("cluster: closed")
	// ErrConfig means the Config is unusable.
	ErrConfig = errors.New("cluster: bad configuration")
)

// ChildError reports a child that failed: it exited (Err wraps ErrExited and
// the exit status) or was not ready in time (Err wraps ErrNotReady).
type ChildError struct {
	Child  string   // "proxy" (proxy 0), "proxy-<i>" or "server-<id>"
	PID    int      // its process ID
	Err    error    // what happened
	Stderr []string // the last lines of its stderr, oldest first
}

// quotedLines is how many of Stderr's lines Error quotes.
const quotedLines = 3

// Error names the child and quotes the last lines of its stderr, on one
// line.
func (e *ChildError) Error() string {
	msg := fmt.Sprintf("%s (pid %d): %v", e.Child, e.PID, e.Err)
	if len(e.Stderr) > 0 {
		msg += "; its stderr ended: " + strings.Join(e.Stderr[max(0, len(e.Stderr)-quotedLines):], " | ")
	}
	return msg
}

// Unwrap returns Err.
func (e *ChildError) Unwrap() error { return e.Err }
