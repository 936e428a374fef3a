package storage

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestLockHeldByOtherProcess: while a child process holds the store, Open
// fails at once with ErrLocked naming the child's PID; once the child is
// killed (no clean-up of any kind), Open succeeds.
func TestLockHeldByOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, stdout, stderr := startHelper(t, "lock", dir)
	lines := readLines(stdout)
	if line, ok := <-lines; !ok || line != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper did not take the lock: got %q; stderr:\n%s", line, stderr.String())
	}

	_, err := Open(dir, testOptions(t))
	pid := cmd.Process.Pid
	switch {
	case err == nil:
		t.Fatal("Open succeeded while another process holds the directory")
	case !errors.Is(err, ErrLocked):
		t.Fatalf("Open: %v, want ErrLocked", err)
	case !strings.Contains(err.Error(), fmt.Sprintf("process %d (lock-helper)", pid)):
		t.Fatalf("Open error %q does not name the holder, process %d (lock-helper)", err, pid)
	case !strings.Contains(err.Error(), dir):
		t.Fatalf("Open error %q does not name the directory", err)
	}
	t.Logf("second open: %v", err)

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); !exitedByKill(err) {
		t.Fatalf("helper exit: %v, want killed; stderr:\n%s", err, stderr.String())
	}
	s := openAt(t, dir)
	if n, err := s.Count(); err != nil || n != 0 {
		t.Fatalf("Count after reopening = %d, %v", n, err)
	}
}

// TestLockSameProcess: a second Store on the same directory in the same
// process is refused too, naming this process; after Close it opens.
func TestLockSameProcess(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Owner: "first"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Owner: "second"})
	want := fmt.Sprintf("data directory %s is in use by process %d (first)", dir, os.Getpid())
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Open: %v, want ErrLocked containing %q", err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Load([16]byte{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close: %v, want ErrClosed", err)
	}
	s2 := openAt(t, dir)
	_ = s2
}

// TestReadHolder covers the holder description for odd lock file contents.
func TestReadHolder(t *testing.T) {
	for contents, want := range map[string]string{
		"":                  "another process (it has not yet recorded its PID)",
		"12":                "process 12",
		"12 server s1\n":    "process 12 (server s1)",
		"garbage here\n":    "another process (it has not yet recorded its PID)",
		"99 a\x1bb\n":       "process 99 (a b)",
		"7 " + "x" + "\n\n": "process 7 (x)",
	} {
		f, err := os.CreateTemp(t.TempDir(), "lock")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(contents)
		if got := readHolder(f); got != want {
			t.Errorf("readHolder(%q) = %q, want %q", contents, got, want)
		}
		f.Close()
	}
	if got := sanitizeOwner("a\x1bb\nc"); got != "a b c" {
		t.Errorf("sanitizeOwner = %q", got)
	}
}
