package storage

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// helperEnv selects the role of a re-executed test binary (see
// TestHelperProcess); helperDirEnv passes it the store directory.
const (
	helperEnv    = "SHOPLIST_STORAGE_HELPER"
	helperDirEnv = "SHOPLIST_STORAGE_HELPER_DIR"
)

// TestHelperProcess is not a test: it is the body of the child processes
// that the locking and crash tests start by re-executing the test binary.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("runs only as a child of another test")
	case "lock":
		helperHoldLock(dir)
	case "crash":
		helperCrashWriter(dir)
	default:
		t.Fatalf("unknown helper role %q", os.Getenv(helperEnv))
	}
}

// helperCommand returns a command re-executing the test binary in a role.
func helperCommand(role, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, helperDirEnv+"="+dir)
	return cmd
}

// startHelper starts a helper process in the role on dir. Its stdin stays
// open (helpers wait on it) until the test ends; stderr is collected for
// failure messages.
func startHelper(t *testing.T, role, dir string) (*exec.Cmd, io.ReadCloser, *strings.Builder) {
	t.Helper()
	cmd := helperCommand(role, dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout, stderr
}

// helperDie reports a failure of a helper process on stderr and exits.
func helperDie(format string, err error) {
	slog.Error(format, "err", err)
	os.Exit(3)
}

// helperHoldLock opens the store, says "locked" on stdout, and holds the
// store until stdin closes (in practice, until the parent kills it).
func helperHoldLock(dir string) {
	s, err := Open(dir, Options{Owner: "lock-helper"})
	if err != nil {
		helperDie("helper: open", err)
	}
	os.Stdout.WriteString("locked\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.Close()
}

// testOptions are store options for tests: small caches, and logs in the
// test's log (shown with -v or on failure) rather than on stderr.
func testOptions(t testing.TB) Options {
	return Options{
		CacheSize:    8 << 20,
		MemTableSize: 4 << 20,
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// testWriter writes to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// openTemp opens a store in a fresh directory, closed at the end of the test.
func openTemp(t testing.TB) *Store {
	t.Helper()
	return openAt(t, t.TempDir())
}

// openAt opens the store in dir, closed at the end of the test.
func openAt(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustSave save-merges l and returns whether it changed the store.
func mustSave(t testing.TB, s *Store, l *crdt.List) bool {
	t.Helper()
	changed, err := s.SaveMerge(l)
	if err != nil {
		t.Fatalf("SaveMerge(%s): %v", l.ID(), err)
	}
	return changed
}

// mustLoad loads a list that must be stored and sound.
func mustLoad(t testing.TB, s *Store, id uuid.UUID) *crdt.List {
	t.Helper()
	l, err := s.Load(id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	return l
}

// sameState fails the test unless got and want encode to the same bytes.
func sameState(t testing.TB, what string, got, want *crdt.List) {
	t.Helper()
	if g, w := got.Encode(), want.Encode(); !bytes.Equal(g, w) {
		t.Fatalf("%s: stored state differs from the expected join\n got %d items %q\nwant %d items %q",
			what, got.Len(), got.ItemKeys(), want.Len(), want.ItemKeys())
	}
}

// contains reports whether state already includes delta: joining delta into
// it changes nothing.
func contains(state, delta *crdt.List) (bool, error) {
	j, err := crdt.Join(state, delta)
	if err != nil {
		return false, err
	}
	return bytes.Equal(j.Encode(), state.Encode()), nil
}

// newList creates a list named name with the given items (quantity 1 each).
func newList(t testing.TB, c *crdt.Clock, name string, items ...string) *crdt.List {
	t.Helper()
	l, err := crdt.New(c, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := l.Add(c, it, 1); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// readLines sends each line of r to the returned channel, closing it at EOF.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// exitedByKill reports whether err is the exit of a SIGKILLed process.
func exitedByKill(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && !ee.Exited()
}
