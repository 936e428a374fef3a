package testcluster

import (
	"log/slog"
	"sync"
	"testing"
)

// failureLogger returns a logger whose output is shown only if the test
// fails.
func failureLogger(t testing.TB) *slog.Logger {
	w := &failureLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster logs:\n%s", w.take())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// failureLog keeps log output in memory.
type failureLog struct {
	mu  sync.Mutex // guards buf
	buf []byte
}

func (w *failureLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *failureLog) take() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
