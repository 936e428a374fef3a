package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"shoplist/internal/curvekey"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// clientBin is the real client binary, built once by TestMain.
var clientBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shoplist-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	clientBin = filepath.Join(dir, "client")
	build := exec.Command("go", "build", "-race", "-o", clientBin, "shoplist/cmd/client")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the client: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the client binary.
type result struct {
	stdout, stderr string
	code           int
}

// user is one person's client: a data directory and the proxy endpoints
// their client is given (none: no --proxy).
type user struct {
	t     *testing.T
	data  string
	proxy string
}

func newUser(t *testing.T, proxy string) *user {
	return &user{t: t, data: t.TempDir(), proxy: proxy}
}

// run runs the client binary with the user's flags and args.
func (u *user) run(args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--data", u.data}, args...)
	if u.proxy != "" {
		full = append([]string{"--data", u.data, "--proxy", u.proxy}, args...)
	}
	cmd := exec.CommandContext(ctx, clientBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("client %v: %v", args, err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "DATA RACE") {
		u.t.Fatalf("client %v crashed:\n%s", args, r.stderr)
	}
	return r
}

// ok runs the client and fails the test unless it exits 0.
func (u *user) ok(args ...string) result {
	u.t.Helper()
	r := u.run(args...)
	if r.code != 0 {
		u.t.Fatalf("client %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// newList creates a list and returns its ID, checking that stdout is only the ID.
func (u *user) newList(name string) string {
	u.t.Helper()
	r := u.ok("new", name)
	id := strings.TrimSuffix(r.stdout, "\n")
	if _, err := uuid.Parse(id); err != nil || strings.Contains(id, "\n") {
		u.t.Fatalf("new printed %q, want only a list ID", r.stdout)
	}
	return id
}

// shown is the JSON of show --json.
type shown struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Items []struct {
		Name      string `json:"name"`
		Wanted    int64  `json:"wanted"`
		Bought    int64  `json:"bought"`
		Remaining int64  `json:"remaining"`
		Acquired  bool   `json:"acquired"`
	} `json:"items"`
}

// show returns the list as show --json prints it (offline: the local copy).
func (u *user) show(list string, offline bool) shown {
	u.t.Helper()
	args := []string{"show", list, "--json"}
	if offline {
		args = append([]string{"--offline"}, args...)
	}
	r := u.ok(args...)
	var s shown
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		u.t.Fatalf("show --json printed %q: %v", r.stdout, err)
	}
	return s
}

// summary is a list's items as "name wanted/bought" in show's order.
func (s shown) summary() string {
	var parts []string
	for _, it := range s.Items {
		parts = append(parts, fmt.Sprintf("%s %d/%d", it.Name, it.Wanted, it.Bought))
	}
	return strings.Join(parts, ", ")
}

// deadEndpoint returns a loopback endpoint nothing listens on, with a key.
func deadEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return keyed(t, "tcp://"+addr)
}

// keyed returns endpoint with a new key attached, as --proxy takes it.
func keyed(t *testing.T, endpoint string) string {
	t.Helper()
	k, err := curvekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return curvekey.JoinEndpoint(endpoint, k.Public)
}

// wantErr checks a failed run: exit code and a phrase on stderr, nothing on stdout.
func wantErr(t *testing.T, r result, code int, phrase string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, phrase) || r.stdout != "" {
		t.Fatalf("exit %d, stderr %q, stdout %q; want exit %d with %q on stderr and nothing on stdout", r.code, r.stderr, r.stdout, code, phrase)
	}
	if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); code == 1 && lines > 0 {
		t.Fatalf("error is %d lines, want one: %q", lines+1, r.stderr)
	}
}
