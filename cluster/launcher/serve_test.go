package launcher

import (
	"context"
	"errors"
	"path/filepath"
	"shoplist/testing/fakeroles"
	"syscall"
	"testing"
)

// served is a Serve running in the background.
type served struct {
	data           string             // its data root
	stdout, stderr *fakeroles.Output  // its output
	stop           context.CancelFunc // what SIGINT or SIGTERM does to the service
	done           chan struct{}
	err            error
}

// wait returns Serve's result.
func (s *served) wait() error {
	<-s.done
	return s.err
}

// runServe runs Serve with fake roles and 3 servers in the background,
// until the test ends at the latest.
func runServe(t *testing.T) *served {
	t.Helper()
	cfg := Config{Data: t.TempDir(), Servers: 3, Listen: "127.0.0.1:0", Exe: fakeroles.Exe(t),
		Admit: fakeroles.NewAdmissions().Admit, Stderr: fakeroles.NewOutput()}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{data: cfg.Data, stdout: fakeroles.NewOutput(), stderr: cfg.Stderr.(*fakeroles.Output), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = Serve(ctx, cfg, s.stdout)
	}()
	t.Cleanup(func() {
		cancel()
		s.wait()
	})
	return s
}

func TestServePrintsReadyAndStopsEverythingOnSignal(t *testing.T) {
	t.Parallel()
	s := runServe(t)
	data, stdout, stderr := s.data, s.stdout, s.stderr
	stdout.WaitFor(t, "\n")
	if got, want := stdout.String(), "ready: clients connect to "+withKey(t, proxyDir(data, 0), "tcp://127.0.0.1:40000")+"\n"; got != want {
		t.Fatalf("stdout %q, want exactly %q", got, want)
	}
	pids, _ := filepath.Glob(filepath.Join(data, "*", fakeroles.PIDFile))
	if len(pids) != 4 {
		t.Fatalf("pid files %v, want the proxy's and 3 servers'", pids)
	}
	s.stop()
	if err := s.wait(); err != nil {
		t.Fatalf("Serve after the signal: %v, want nil", err)
	}
	for _, f := range pids {
		fakeroles.AssertGone(t, f, fakeroles.PID(t, filepath.Dir(f)))
	}
	stderr.WaitFor(t, "[proxy] fake proxy: stopping on terminated")
}

func TestServeKeepsRunningWhenAServerDiesAndStopsWhenTheProxyDies(t *testing.T) {
	t.Parallel()
	s := runServe(t)
	data, stdout, stderr := s.data, s.stdout, s.stderr
	stdout.WaitFor(t, "ready: ")
	servers, _ := filepath.Glob(filepath.Join(data, "server-*"))
	must(t, syscall.Kill(fakeroles.PID(t, servers[0]), syscall.SIGUSR1))
	stderr.WaitFor(t, "the cluster keeps running with 2 of 3 servers")

	must(t, syscall.Kill(fakeroles.PID(t, filepath.Join(data, "proxy")), syscall.SIGUSR1))
	err := s.wait()
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Child != "proxy" || !errors.Is(err, ErrExited) {
		t.Fatalf("Serve after the proxy died: %v, want a *ChildError naming the proxy", err)
	}
	for _, dir := range servers[1:] {
		fakeroles.AssertGone(t, dir, fakeroles.PID(t, dir))
		stderr.WaitFor(t, "["+filepath.Base(dir)+"] fake server: stopping on terminated")
	}
}
