package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"shoplist/internal/curvekey"
)

// lineWriter collects what is written to it, line by line, on a channel.
type lineWriter struct {
	lines chan string
	// mu guards partial: Main writes from one goroutine, but the test's
	// failure messages may read it.
	mu      sync.Mutex
	partial string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 64)} }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial += string(b)
	for {
		i := strings.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.lines <- w.partial[:i]
		w.partial = w.partial[i+1:]
	}
}

// next returns the next line within the deadline.
func (w *lineWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(wait):
		t.Fatalf("no line on stdout within %v", wait)
		return ""
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMainReadyLines: Main prints the ready line each time a proxy welcomes
// the server (first start and after a reconnection), with the server ID and
// the epoch of the welcome, and exits 0 once its context is cancelled.
func TestMainReadyLines(t *testing.T) {
	p := newFakeProxy(t)
	dir := t.TempDir()
	stdout, stderr := newLineWriter(), new(syncBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"--data", dir, "--proxy", p.dial(), "--heartbeat", "100ms", "--log-level", "warn"}, stdout, stderr)
	}()
	id := p.welcome(7)
	want := fmt.Sprintf("server ready: id=%s proxy=%s epoch=7", id, p.endpoint)
	if got := stdout.next(t); got != want {
		t.Fatalf("stdout: %q, want %q", got, want)
	}
	raw, err := os.ReadFile(filepath.Join(dir, idFile))
	if err != nil || strings.TrimSpace(string(raw)) != id {
		t.Fatalf("the ready line names %q, the data directory holds %q (%v)", id, raw, err)
	}

	p.silent = true // the server gives the proxy up and reconnects
	p.welcome(8)
	want = fmt.Sprintf("server ready: id=%s proxy=%s epoch=8", id, p.endpoint)
	if got := stdout.next(t); got != want {
		t.Fatalf("stdout after reconnecting: %q, want %q", got, want)
	}

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("Main exited %d after cancel; stderr:\n%s", c, stderr)
		}
	case <-time.After(wait):
		t.Fatal("Main did not return after its context was cancelled")
	}
}

// TestMainUsage: bad command lines exit 2 with the error and a usage line.
func TestMainUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		nil,
		{"--proxy", "tcp://127.0.0.1:1"},
		{"--data", dir, "--bogus"},
		{"--data", dir, "--workers", "0"},
		{"--data", dir, "--heartbeat", "soon"},
		{"--data", dir, "--log-level", "loud"},
		{"--data", dir, "--id", "no spaces allowed"},
		{"--data", dir, "extra"},
		{"--data", dir, "--proxy", "tcp://127.0.0.1:1"}, // no key
		{"--data", dir, "--proxy", "tcp://127.0.0.1:1#nonsense"},
		{"--data", dir, "--insecure-backend", "--proxy", curvekey.JoinEndpoint("tcp://127.0.0.1:1", newKeyPair(t).Public)},
	} {
		var stdout, stderr strings.Builder
		if c := Main(t.Context(), args, &stdout, &stderr); c != 2 {
			t.Errorf("%q: exit %d, want 2; stderr:\n%s", args, c, stderr.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "server: ") || !strings.HasPrefix(lines[1], "usage: server --data DIR") {
			t.Errorf("%q: stderr %q, want the error then the usage line", args, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: wrote %q on stdout", args, stdout.String())
		}
	}
}

// TestMainRuntimeFailures: a data directory that cannot be created, or one
// in use by another server, exits 1 with one line saying so.
func TestMainRuntimeFailures(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o644))
	busy := startServer(t, newFakeProxy(t), nil).cfg.Dir
	for dir, says := range map[string]string{
		filepath.Join(file, "data"): "not a directory",
		busy:                        "in use",
	} {
		var stdout, stderr strings.Builder
		if c := Main(t.Context(), []string{"--data", dir, "--proxy", curvekey.JoinEndpoint("tcp://127.0.0.1:1", newKeyPair(t).Public)}, &stdout, &stderr); c != 1 {
			t.Errorf("--data %s: exit %d, want 1; stderr:\n%s", dir, c, stderr.String())
			continue
		}
		msg := strings.TrimSpace(stderr.String())
		if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "server: ") || !strings.Contains(msg, dir) || !strings.Contains(msg, says) {
			t.Errorf("--data %s: stderr %q, want one line naming the directory and saying %q", dir, msg, says)
		}
	}
}

// TestTheProxiesCanComeFromAFile: --proxy @FILE reads the endpoints, one
// per line or comma-separated, so that keys need no shell quoting.
func TestTheProxiesCanComeFromAFile(t *testing.T) {
	a := curvekey.JoinEndpoint("tcp://10.0.0.1:5557", newKeyPair(t).Public)
	b := curvekey.JoinEndpoint("tcp://10.0.0.2:5557", newKeyPair(t).Public)
	file := filepath.Join(t.TempDir(), "proxies")
	if err := os.WriteFile(file, []byte(a+"\n"+b+",\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := parseFlags([]string{"--data", t.TempDir(), "--proxy", "@" + file}, io.Discard)
	if err != nil || !slices.Equal(cfg.Proxies, []string{a, b}) {
		t.Fatalf("--proxy @FILE: %v, %v; want [%s %s]", cfg.Proxies, err, a, b)
	}
	if _, _, err := parseFlags([]string{"--data", t.TempDir(), "--proxy", "@" + file + ".missing"}, io.Discard); err == nil {
		t.Fatal("--proxy @ a missing file: no error")
	}
}
