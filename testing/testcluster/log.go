package testcluster

import (
	"log/slog"
	"sync"
	"testing"
)

// FailureLogger returns a logger whose output is kept in memory and shown
// only if the test fails.
func FailureLogger(t testing.TB) *slog.Logger {
	w := &FailureLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster logs:\n%s", w.String())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// FailureLog keeps output in memory, for a test to show if it fails. It
// is safe for concurrent writers and readers.
type FailureLog struct {
	mu  sync.Mutex // guards buf
	buf []byte
}

// Write appends p.
func (w *FailureLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// String returns everything written so far.
func (w *FailureLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
