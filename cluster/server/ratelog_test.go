package server

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRateLog: a kind repeated at will is logged once per logEvery, the next
// line saying how many were held back; other kinds are not held back by it.
func TestRateLog(t *testing.T) {
	var out syncBuffer
	r := newRateLog(slog.New(slog.NewTextHandler(&out, nil)))
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for range 100 {
		r.warn("bad-frame", "bad frame")
	}
	r.error("other", "other problem")
	now = now.Add(logEvery)
	r.warn("bad-frame", "bad frame")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out.String())
	}
	if strings.Contains(lines[0], "similar_not_logged") || !strings.Contains(lines[1], "other problem") ||
		!strings.Contains(lines[2], "similar_not_logged=99") {
		t.Fatalf("log:\n%s", out.String())
	}
}
